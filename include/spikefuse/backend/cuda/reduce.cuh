// Block reductions of the CUDA backend: Σ over the threads of a block in double, in a fixed tree order (deterministic).
#pragma once

#include <stdexcept>

#include "spikefuse/config.hpp"

namespace spikefuse::cuda {

inline constexpr int reduce_threads = 256;

/// Sum of `value` over a block of reduce_threads threads, returned to every thread. `shared` holds
/// reduce_threads doubles; consecutive calls may reuse it (the last barrier protects it).
__device__ inline double block_sum(double value, double* shared) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int half = reduce_threads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}

/// Element j of channel c (j < batch·plane) in an NCHW tensor. The shape is a template argument, so
/// the division and modulo are by constants (multiplies and shifts), in 32 bits: the H200 profile
/// showed these kernels slow with run-time 64-bit ones. Summation order is unchanged.
template <int Channels, int Plane>
SF_HOST_DEVICE constexpr long long channel_element(int j, int c) {
  return (static_cast<long long>(j / Plane) * Channels + c) * Plane + j % Plane;
}

/// batch·plane elements per channel are counted in 32 bits, by loops that step reduce_threads at a time.
inline void check_channel_count(int batch, long long plane) {
  if (static_cast<long long>(batch) * plane > 2147483647LL - reduce_threads)
    throw std::length_error("spikefuse: a channel has 2^31 or more elements per batch; use a smaller batch");
}

}  // namespace spikefuse::cuda
