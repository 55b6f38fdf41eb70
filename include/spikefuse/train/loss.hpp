// Per-step loss L_t = ((1 − λ)·CE(y_t, label) + λ·MSE(y_t, target)) / T and its gradient ∂L_t/∂y_t (spec §D).
//
// CE is the batch mean of −log softmax(y)[label]; MSE the mean over batch × classes of (y − target)²,
// where target is one-hot(label) (OTTT scripts) or a constant for every logit (SLTT's default, 1.0).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "spikefuse/train/loss_math.hpp"

namespace spikefuse {

struct loss_config {
  float mse_weight = 0.05f;           // λ; 0 gives plain cross-entropy
  bool constant_mse_target = false;   // false: one-hot(label); true: every logit → mse_target_value
  float mse_target_value = 1.f;
};

/// The step's scalars for a batch of `batch` samples of `classes` classes and T = `time_steps`.
inline loss_scalars make_loss_scalars(const loss_config& cfg, int batch, int classes, int time_steps) {
  return loss_scalars{1.f / static_cast<float>(time_steps), (1.f - cfg.mse_weight) / static_cast<float>(batch),
                      cfg.mse_weight * 2.f / static_cast<float>(batch * classes), cfg.constant_mse_target,
                      cfg.mse_target_value};
}

/// Writes ∂L_t/∂y into `grad` (overwrites) and returns L_t. `y` and `grad` are batch × classes.
inline float step_loss(const loss_config& cfg, int batch, int classes, const float* y, std::span<const std::uint8_t> labels,
                       int time_steps, float* grad) {
  if (static_cast<int>(labels.size()) < batch) throw std::invalid_argument("spikefuse: fewer labels than samples");
  const loss_scalars scalars = make_loss_scalars(cfg, batch, classes, time_steps);
  double ce_sum = 0.0;
  double mse_sum = 0.0;
  for (int b = 0; b < batch; ++b) {
    const int label = labels[b];
    if (label < 0 || label >= classes)
      throw std::out_of_range("spikefuse: label " + std::to_string(label) + " out of range for " + std::to_string(classes) +
                              " classes");
    const auto sums = loss_row(scalars, classes, y + static_cast<long long>(b) * classes, label,
                               grad + static_cast<long long>(b) * classes);
    ce_sum += sums.ce;
    mse_sum += sums.mse;
  }
  return combine_loss(cfg.mse_weight, ce_sum, mse_sum, batch, classes, time_steps);
}

/// Number of samples whose argmax of Σ_t y_t equals the label (ties: the lowest class, like torch.argmax).
inline int count_correct(int batch, int classes, const float* logits_sum, std::span<const std::uint8_t> labels) {
  int correct = 0;
  for (int b = 0; b < batch; ++b) {
    correct += argmax_row(classes, logits_sum + static_cast<long long>(b) * classes) == labels[b];
  }
  return correct;
}

}  // namespace spikefuse
