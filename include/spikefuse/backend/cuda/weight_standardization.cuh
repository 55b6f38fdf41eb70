// CUDA weight standardisation: Ŵ before a step's forward, ∂Ŵ chained into ∂W and ∂gain (+=) after its backward; one block per output row, the shared ws:: pieces.
#pragma once

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/cuda/reduce.cuh"
#include "spikefuse/layer/weight_standardization.hpp"

namespace spikefuse::cuda {

/// The row's moments, every thread of the block getting them.
__device__ inline ws::row_moments block_row_moments(const float* w, int n, double* shared) {
  double sum = 0.0;
  for (int i = threadIdx.x; i < n; i += reduce_threads) sum += w[i];
  const float mean = ws::row_mean(block_sum(sum, shared), n);
  double squares = 0.0;
  for (int i = threadIdx.x; i < n; i += reduce_threads) squares += ws::centred_square(w[i], mean);
  return ws::moments_from(mean, block_sum(squares, shared), n);
}

__global__ void __launch_bounds__(reduce_threads)
    standardize_kernel(const float* weight, const float* gain, float* weight_hat, int cols) {
  __shared__ double shared[reduce_threads];
  const long long row = static_cast<long long>(blockIdx.x) * cols;
  const ws::row_moments m = block_row_moments(weight + row, cols, shared);
  for (int i = threadIdx.x; i < cols; i += reduce_threads)
    weight_hat[row + i] = ws::standardized(weight[row + i], m, gain[blockIdx.x]);
}

__global__ void __launch_bounds__(reduce_threads)
    standardize_backward_kernel(const float* weight, const float* gain, const float* grad_weight_hat, float* grad_weight,
                                float* grad_gain, int cols) {
  __shared__ double shared[reduce_threads];
  const long long row = static_cast<long long>(blockIdx.x) * cols;
  const float g = gain[blockIdx.x];
  const ws::row_moments m = block_row_moments(weight + row, cols, shared);
  ws::backward_sums part;
  for (int i = threadIdx.x; i < cols; i += reduce_threads) part.add(weight[row + i], grad_weight_hat[row + i], m, g);
  ws::backward_sums s;
  s.a = block_sum(part.a, shared);
  s.a_dot_u = block_sum(part.a_dot_u, shared);
  s.gain_grad = block_sum(part.gain_grad, shared);
  for (int j = threadIdx.x; j < cols; j += reduce_threads)
    grad_weight[row + j] += ws::weight_grad(weight[row + j], grad_weight_hat[row + j], m, g, s, cols);
  if (threadIdx.x == 0) grad_gain[blockIdx.x] += static_cast<float>(s.gain_grad);
}

/// Ŵ of `rows` output rows of `cols` weights.
inline void standardize(const context& ctx, int rows, int cols, const float* weight, const float* gain, float* weight_hat) {
  standardize_kernel<<<rows, reduce_threads, 0, ctx.stream>>>(weight, gain, weight_hat, cols);
  ctx.kernel_launched();
}

/// ∂W += and ∂gain += from ∂Ŵ.
inline void standardize_backward(const context& ctx, int rows, int cols, const float* weight, const float* gain,
                                 const float* grad_weight_hat, float* grad_weight, float* grad_gain) {
  standardize_backward_kernel<<<rows, reduce_threads, 0, ctx.stream>>>(weight, gain, grad_weight_hat, grad_weight, grad_gain,
                                                                      cols);
  ctx.kernel_launched();
}

}  // namespace spikefuse::cuda
