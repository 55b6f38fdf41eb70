// CUDA weight standardisation: Ŵ row by row before a step's forward, ∂Ŵ chained into ∂W and ∂gain (+=) after its backward; one thread per output row, the shared ws:: math.
#pragma once

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/layer/weight_standardization.hpp"

namespace spikefuse::cuda {

/// Ŵ for one output row per thread.
struct standardize_op {
  const float* weight;
  const float* gain;
  float* weight_hat;
  int cols;
  __device__ void operator()(long long o) const {
    ws::standardize_row(weight + o * cols, gain[o], cols, weight_hat + o * cols);
  }
};

/// ∂W += and ∂gain += from ∂Ŵ, one output row per thread.
struct standardize_backward_op {
  const float* weight;
  const float* gain;
  const float* grad_weight_hat;
  float* grad_weight;
  float* grad_gain;
  int cols;
  __device__ void operator()(long long o) const {
    ws::standardize_row_backward(weight + o * cols, gain[o], cols, grad_weight_hat + o * cols, grad_weight + o * cols,
                                 grad_gain + o);
  }
};

}  // namespace spikefuse::cuda
