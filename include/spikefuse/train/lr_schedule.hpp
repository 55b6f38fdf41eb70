// Learning rate: linear warm-up lr·(k+1)/W for k < W, then cosine lr_min + ½(lr − lr_min)(1 + cos(π·(k − W)/(K − W))).
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace spikefuse {

struct cosine_schedule {
  float base_lr = 1e-3f;
  long long total_steps = 1;   // K: schedule steps over the whole run (fit: one per batch, also for OTTT_O)
  long long warmup_steps = 0;  // W
  float min_lr = 0.f;

  /// Rate for optimizer step k (0-based).
  float operator()(long long k) const {
    if (total_steps < 1 || warmup_steps < 0 || warmup_steps > total_steps)
      throw std::invalid_argument("spikefuse: cosine schedule needs 0 <= warmup <= total and total >= 1");
    if (k < warmup_steps) return base_lr * static_cast<float>(k + 1) / static_cast<float>(warmup_steps);
    const long long span = total_steps - warmup_steps;
    if (span <= 0) return base_lr;
    const double progress = std::min(1.0, static_cast<double>(k - warmup_steps) / static_cast<double>(span));
    constexpr double pi = 3.14159265358979323846;
    return static_cast<float>(min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(pi * progress)));
  }
};

}  // namespace spikefuse
