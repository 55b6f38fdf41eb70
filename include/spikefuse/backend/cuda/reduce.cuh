// Block reductions of the CUDA backend: Σ over the threads of a block in double, in a fixed tree order (deterministic).
#pragma once

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

}  // namespace spikefuse::cuda
