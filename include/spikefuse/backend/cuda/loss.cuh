// The network head in one kernel: logits y_t = z (+ b), Σ_t y += y_t, and in training L_t and ∂L_t/∂y (loss_row), db += Σ_batch ∂y.
//
// One block: the head is batch × classes floats (1,280 for the MLP), so a single block in fixed
// order is faster than a grid plus a reduction, and deterministic. L_t is accumulated on the device
// (no copy back per step), with the first step whose loss is not finite.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/train/loss_math.hpp"

namespace spikefuse::cuda {

/// Device-side loss bookkeeping of one batch; the trainer reads it once at the end of the batch.
struct loss_accumulator {
  double loss_sum;           // Σ_t L_t over the steps so far
  float last_loss;           // L_t of the latest step
  int steps;                 // steps seen
  int nonfinite_step_plus_one;  // 0 while every L_t is finite (so that a memset resets it)
  float first_nonfinite_loss;   // its value (NaN or ±inf)
};

inline constexpr int head_threads = 256;

template <int Classes, bool WithLoss>
__global__ void __launch_bounds__(head_threads)
    head_kernel(int batch, float* __restrict__ logits, const float* __restrict__ bias, float* __restrict__ logits_sum,
                const std::uint8_t* __restrict__ labels, loss_scalars scalars, float mse_weight, int time_steps,
                float* __restrict__ grad, float* __restrict__ grad_bias, loss_accumulator* __restrict__ acc) {
  __shared__ double ce_part[head_threads];
  __shared__ double mse_part[head_threads];
  double ce = 0.0, mse = 0.0;
  for (int r = threadIdx.x; r < batch; r += blockDim.x) {
    float* y = logits + static_cast<long long>(r) * Classes;
    float* y_sum = logits_sum + static_cast<long long>(r) * Classes;
    for (int c = 0; c < Classes; ++c) {
      if (bias) y[c] += bias[c];
      y_sum[c] += y[c];
    }
    if constexpr (WithLoss) {
      const loss_row_sums sums = loss_row(scalars, Classes, y, labels[r], grad + static_cast<long long>(r) * Classes);
      ce += sums.ce;
      mse += sums.mse;
    }
  }
  if constexpr (!WithLoss) return;
  ce_part[threadIdx.x] = ce;
  mse_part[threadIdx.x] = mse;
  __syncthreads();
  for (int stride = head_threads / 2; stride > 0; stride /= 2) {  // fixed tree: the same order every run
    if (threadIdx.x < stride) {
      ce_part[threadIdx.x] += ce_part[threadIdx.x + stride];
      mse_part[threadIdx.x] += mse_part[threadIdx.x + stride];
    }
    __syncthreads();
  }
  if (grad_bias) {  // the head Linear's bias gradient, rows in order like the CPU
    for (int c = threadIdx.x; c < Classes; c += blockDim.x) {
      float sum = 0.f;
      for (int r = 0; r < batch; ++r) sum += grad[static_cast<long long>(r) * Classes + c];
      grad_bias[c] += sum;
    }
  }
  if (threadIdx.x == 0) {
    const float loss = combine_loss(mse_weight, ce_part[0], mse_part[0], batch, Classes, time_steps);
    if (!isfinite(loss) && acc->nonfinite_step_plus_one == 0) {
      acc->nonfinite_step_plus_one = acc->steps + 1;
      acc->first_nonfinite_loss = loss;
    }
    acc->loss_sum += loss;
    acc->last_loss = loss;
    acc->steps += 1;
  }
}

}  // namespace spikefuse::cuda
