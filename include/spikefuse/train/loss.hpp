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

namespace spikefuse {

struct loss_config {
  float mse_weight = 0.05f;           // λ; 0 gives plain cross-entropy
  bool constant_mse_target = false;   // false: one-hot(label); true: every logit → mse_target_value
  float mse_target_value = 1.f;
};

/// Writes ∂L_t/∂y into `grad` (overwrites) and returns L_t. `y` and `grad` are batch × classes.
inline float step_loss(const loss_config& cfg, int batch, int classes, const float* y, std::span<const std::uint8_t> labels,
                       int time_steps, float* grad) {
  if (static_cast<int>(labels.size()) < batch) throw std::invalid_argument("spikefuse: fewer labels than samples");
  const float inv_t = 1.f / static_cast<float>(time_steps);
  const float ce_scale = (1.f - cfg.mse_weight) / static_cast<float>(batch);
  const float mse_scale = cfg.mse_weight * 2.f / static_cast<float>(batch * classes);
  double ce_sum = 0.0;
  double mse_sum = 0.0;
  for (int b = 0; b < batch; ++b) {
    const float* row = y + static_cast<long long>(b) * classes;
    float* g = grad + static_cast<long long>(b) * classes;
    const int label = labels[b];
    if (label < 0 || label >= classes)
      throw std::out_of_range("spikefuse: label " + std::to_string(label) + " out of range for " + std::to_string(classes) +
                              " classes");
    const float m = *std::max_element(row, row + classes);
    float denom = 0.f;
    for (int c = 0; c < classes; ++c) denom += std::exp(row[c] - m);
    const float log_denom = std::log(denom);
    ce_sum += static_cast<double>(log_denom - (row[label] - m));
    for (int c = 0; c < classes; ++c) {
      const float softmax = std::exp(row[c] - m - log_denom);
      const float target = cfg.constant_mse_target ? cfg.mse_target_value : (c == label ? 1.f : 0.f);
      const float diff = row[c] - target;
      mse_sum += static_cast<double>(diff) * diff;
      g[c] = (ce_scale * (softmax - (c == label ? 1.f : 0.f)) + mse_scale * diff) * inv_t;
    }
  }
  const double ce = ce_sum / batch;
  const double mse = mse_sum / (static_cast<double>(batch) * classes);
  return static_cast<float>(((1.0 - cfg.mse_weight) * ce + cfg.mse_weight * mse) / time_steps);
}

/// Number of samples whose argmax of Σ_t y_t equals the label (ties: the lowest class, like torch.argmax).
inline int count_correct(int batch, int classes, const float* logits_sum, std::span<const std::uint8_t> labels) {
  int correct = 0;
  for (int b = 0; b < batch; ++b) {
    const float* row = logits_sum + static_cast<long long>(b) * classes;
    const int pred = static_cast<int>(std::max_element(row, row + classes) - row);
    correct += pred == labels[b];
  }
  return correct;
}

}  // namespace spikefuse
