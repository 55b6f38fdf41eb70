// cuDNN is opened at run time (backend/cuda/cudnn_conv.cuh): every entry point spikefuse calls must resolve from libcudnn.so.9, and its parts must load.
//
// Needs no GPU: loading the library and reading its version touch no device. Where cuDNN is not
// installed at all the loader's own message is checked instead (it must name libcudnn.so.9 and the
// im2col alternative), so a machine without cuDNN still tests that the option fails with its reason.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <spikefuse/backend/cuda/cudnn_conv.cuh>

int main() {
#ifdef SPIKEFUSE_HAS_CUDNN
  try {
    const auto& lib = spikefuse::cuda::cudnn_library::get();
    const auto version = lib.cudnnGetVersion();
    std::printf("cuDNN %zu: every entry point spikefuse uses resolved\n", static_cast<std::size_t>(version));
    // libcudnn.so.9 is a front that opens these on first use: they (and what they need) must load too.
    bool all_loaded = true;
    for (const char* part : {"libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_heuristic.so.9",
                             "libcudnn_engines_precompiled.so.9"}) {
      void* handle = dlopen(part, RTLD_LAZY | RTLD_LOCAL);
      std::printf("  %-36s %s\n", part, handle ? "loads" : dlerror());
      all_loaded = all_loaded && handle != nullptr;
    }
    return version >= 90000 && all_loaded ? 0 : 1;
  } catch (const spikefuse::cuda::cuda_error& e) {
    const std::string why = e.what();
    std::printf("%s\n", why.c_str());
    const bool not_installed = why.find("libcudnn.so.9") != std::string::npos && why.find("im2col") != std::string::npos;
    // scripts/gpu_session.sh sets SPIKEFUSE_REQUIRE_CUDNN=1: there cuDNN must load.
    const char* require = std::getenv("SPIKEFUSE_REQUIRE_CUDNN");
    const bool required = require && std::string(require) == "1";
    std::printf(!not_installed ? "FAIL: cuDNN was found but could not be used\n"
                : required     ? "FAIL: no cuDNN, and SPIKEFUSE_REQUIRE_CUDNN=1\n"
                               : "no cuDNN on this machine: the reason given is the expected one\n");
    return not_installed && !required ? 0 : 1;
  }
#else
  std::printf("built without cudnn.h: the cuDNN option reports that at run time\n");
  return 0;
#endif
}
