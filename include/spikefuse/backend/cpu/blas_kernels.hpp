// C = α·op(A)·op(B) + β·C on the widest vectors this CPU has: OpenBLAS's kernel choice, corrected
// where its detection mistakes an Intel CPU with AVX2 or AVX-512 for an SSE3-only one.
//
// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels when it is loaded, from the CPU's
// vendor, family and model. In Debian 12's 0.3.21 the table of Intel family-6 models lacks a
// `break` (added in 0.3.25), so every model with extended model 0xB or above (Emerald Rapids,
// model 207, is one; Raptor Lake, Alder Lake-N, Arrow Lake and Lunar Lake too) falls into a case
// that returns the SSE3 "Prescott" kernels, and the convolutional networks' GEMMs ran 2–3.3×
// slower (docs/design.md, "BLAS kernels"). At start-up spikefuse re-runs OpenBLAS's own selection
// (OPENBLAS_CORETYPE, its documented override) with the kernels for the CPU's features, if the
// library chose SSE-only kernels on an Intel CPU with AVX2 and FMA and the user has not set
// OPENBLAS_CORETYPE. A user's OPENBLAS_CORETYPE stands (Prescott keeps the library's choice).
#pragma once

#include <cblas.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <strings.h>

extern "C" {
// Exported by OpenBLAS builds with DYNAMIC_ARCH. Weak, so that a build without them links and
// keeps its kernels.
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace spikefuse::cpu {

/// The kernels OpenBLAS runs, and what its own detection chose when it was loaded.
struct blas_kernels {
  std::string core;      ///< e.g. "SkylakeX"
  std::string detected;  ///< the library's own choice; differs from `core` only after a correction

  bool corrected() const { return core != detected; }
  /// "OpenBLAS SkylakeX kernels (its detection chose SSE3-only Prescott on this CPU)".
  std::string describe() const {
    std::string text = "OpenBLAS " + core + " kernels";
    if (corrected()) text += " (its detection chose SSE3-only " + detected + " on this CPU)";
    return text;
  }
};

namespace detail {

inline bool same_core(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// OpenBLAS's x86-64 cores whose single-precision GEMM uses SSE registers only.
inline bool is_sse_only_core(std::string_view core) {
  for (std::string_view name : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Nano", "Opteron",
                                "Opteron_SSE3", "Barcelona", "Bobcat", "Katmai", "Coppermine", "Northwood", "Banias",
                                "Athlon"})
    if (same_core(core, name)) return true;
  return false;
}

/// The OpenBLAS core for this CPU's widest vectors: SkylakeX for AVX-512 (its sgemm kernels are
/// also Cooperlake's and SapphireRapids'; 0.3.21 takes no later name through OPENBLAS_CORETYPE),
/// Haswell for AVX2 and FMA. nullptr where that would not beat SSE3, and on other vendors than
/// Intel, whose SSE choices upstream OpenBLAS makes on purpose (Centaur, Zhaoxin).
inline const char* core_for_cpu_features() {
#if defined(__x86_64__) && !defined(__CUDA_ARCH__)
  if (!__builtin_cpu_is("intel")) return nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

/// Re-runs OpenBLAS's kernel selection: as if OPENBLAS_CORETYPE were `core`, or with its own
/// detection for nullptr. The environment is left as it was.
inline void rerun_openblas_selection(const char* core) {
  const char* given = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = given != nullptr ? given : "";
  if (core != nullptr)
    setenv("OPENBLAS_CORETYPE", core, 1);
  else
    unsetenv("OPENBLAS_CORETYPE");
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  if (given != nullptr)
    setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  else
    unsetenv("OPENBLAS_CORETYPE");
}

/// Whether this OpenBLAS can re-run its selection (DYNAMIC_ARCH builds export the two functions).
inline bool can_reselect() { return gotoblas_dynamic_init != nullptr && gotoblas_dynamic_quit != nullptr; }

inline blas_kernels correct_blas_kernels() {
  blas_kernels kernels;
  kernels.core = kernels.detected = openblas_get_corename();
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return kernels;  // the user's choice stands
  if (!can_reselect() || !is_sse_only_core(kernels.detected)) return kernels;
  const char* wanted = core_for_cpu_features();
  if (wanted == nullptr) return kernels;
  rerun_openblas_selection(wanted);
  // A name the library does not take makes it fall back by the CPU's features; keep that unless it
  // is SSE-only again, and then go back to the library's own choice.
  if (is_sse_only_core(openblas_get_corename())) rerun_openblas_selection(nullptr);
  kernels.core = openblas_get_corename();
  return kernels;
}

}  // namespace detail

/// Initialised once, during static initialisation: in an executable before main, so no thread of
/// the program can be inside a BLAS call while the kernels change. (A shared object that includes
/// this header and is loaded with dlopen while other threads run BLAS would race; spikefuse builds
/// none.) Binaries print `blas_kernels_in_use.describe()`.
inline const blas_kernels blas_kernels_in_use = detail::correct_blas_kernels();

}  // namespace spikefuse::cpu
