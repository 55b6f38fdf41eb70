// The CUDA kernel test programs' frame: run_device_checks(checks) on a fresh stream and context (skipped, exit 77, without a GPU), and host ↔ device copies.
#pragma once

#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include <spikefuse/backend/cuda/device_memory.cuh>
#include <spikefuse/backend/cuda/error.cuh>
#include <spikefuse/backend/cuda/launch.cuh>
#include <spikefuse/backend/cuda/stream.cuh>

#include "expect.hpp"
#include "no_device.hpp"

namespace spikefuse::testing {

inline std::vector<float> download(const cuda::device_array<float>& a) {
  std::vector<float> h(a.size());
  SF_CUDA_CHECK(cudaMemcpy(h.data(), a.data(), a.size() * sizeof(float), cudaMemcpyDeviceToHost));
  return h;
}

/// Complete before it returns: a pageable copy on the legacy stream is not ordered with the tests'
/// non-blocking streams.
inline void upload(cuda::device_array<float>& a, const std::vector<float>& h) {
  SF_CUDA_CHECK(cudaMemcpy(a.data(), h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
  SF_CUDA_CHECK(cudaDeviceSynchronize());
}

/// One draw of `distribution` for every element of `a`, uploaded.
template <class Distribution, class Rng>
void upload_random(cuda::device_array<float>& a, Distribution& distribution, Rng& rng) {
  std::vector<float> h(a.size());
  for (auto& e : h) e = distribution(rng);
  upload(a, h);
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// checks(context&) on one non-blocking stream with an fp32 cuBLAS handle; the program's exit code:
/// 0 when every expect() held, 1 otherwise; without a GPU exit_without_device (77, skipped).
template <class Checks>
int run_device_checks(Checks&& checks) {
  if (cuda::device_count() == 0) return exit_without_device(cuda::no_device_reason());
  std::printf("device: %s\n", cuda::device_description().c_str());
  try {
    cuda::stream s;
    cuda::blas_handle blas(s.get(), cuda::gemm_precision::fp32);
    cuda::launch_counter launches;
    cuda::context ctx{s.get(), &blas, &launches};
    checks(ctx);
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    return 1;
  }
  std::printf("%s: %d failures\n", failures ? "FAIL" : "ok", failures);
  return failures ? 1 : 0;
}

}  // namespace spikefuse::testing
