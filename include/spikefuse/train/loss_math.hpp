// One row of the per-step loss: ℓ = (1 − λ)·(log Σ_c e^{y_c} − y_label) and ∂L_t/∂y_c = ((1−λ)/B·(softmax_c − [c = label]) + 2λ/(B·C)·(y_c − target_c)) / T.
//
// Written once for the CPU loop (loss.hpp) and the CUDA loss kernel (backend/cuda/loss.cuh): the
// same operations in the same order, so both backends round alike (exp and logf may differ by an ulp:
// the host exp is spikefuse's own, core/math.hpp, the device's CUDA's expf).
#pragma once

#include "spikefuse/config.hpp"
#include "spikefuse/core/math.hpp"

namespace spikefuse {

/// Scalars of one step's loss, computed once per step on the host.
struct loss_scalars {
  float inv_t;        // 1/T
  float ce_scale;     // (1 − λ)/B
  float mse_scale;    // 2λ/(B·C)
  bool constant_mse_target;
  float mse_target_value;
};

/// Per-row sums the caller reduces over the batch (in double, like the CPU loop).
struct loss_row_sums {
  double ce;   // log Σ e^{y − m} − (y_label − m)
  double mse;  // Σ_c (y_c − target_c)²
};

/// Writes ∂L_t/∂y of one row of `classes` logits into `grad` (overwrites).
SF_HOST_DEVICE constexpr loss_row_sums loss_row(const loss_scalars& s, int classes, const float* y, int label,
                                                float* grad) {
  float m = y[0];
  for (int c = 1; c < classes; ++c) m = y[c] > m ? y[c] : m;
  float denom = 0.f;
  for (int c = 0; c < classes; ++c) denom += math::exp(y[c] - m);
  const float log_denom = math::log(denom);
  loss_row_sums sums{static_cast<double>(log_denom - (y[label] - m)), 0.0};
  for (int c = 0; c < classes; ++c) {
    const float softmax = math::exp(y[c] - m - log_denom);
    const float target = s.constant_mse_target ? s.mse_target_value : (c == label ? 1.f : 0.f);
    const float diff = y[c] - target;
    sums.mse += static_cast<double>(diff) * diff;
    grad[c] = (s.ce_scale * (softmax - (c == label ? 1.f : 0.f)) + s.mse_scale * diff) * s.inv_t;
  }
  return sums;
}

/// L_t from the batch sums of loss_row: ((1 − λ)·mean CE + λ·mean MSE) / T, in double.
SF_HOST_DEVICE constexpr float combine_loss(float mse_weight, double ce_sum, double mse_sum, int batch, int classes,
                                            int time_steps) {
  const double ce = ce_sum / batch;
  const double mse = mse_sum / (static_cast<double>(batch) * classes);
  return static_cast<float>(((1.0 - mse_weight) * ce + mse_weight * mse) / time_steps);
}

/// Index of the largest of `classes` values (ties: the lowest index, like torch.argmax).
SF_HOST_DEVICE constexpr int argmax_row(int classes, const float* y) {
  int best = 0;
  for (int c = 1; c < classes; ++c) best = y[c] > y[best] ? c : best;
  return best;
}

}  // namespace spikefuse
