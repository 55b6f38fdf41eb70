// Optimizers on a flat parameter vector, PyTorch semantics: SGD (momentum, dampening 0, nesterov, L2) and Adam/AdamW.
//
//   SGD:   d = g + wd·p;  b = μ·b + d (b = d at the first step);  d = nesterov ? d + μ·b : b;  p −= lr·d
//   Adam:  g += wd·p (Adam) or p ·= 1 − lr·wd (AdamW);  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//          p −= lr/(1−β1^k) · m / (√v/√(1−β2^k) + ε)
#pragma once

#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace spikefuse {

enum class optimizer_kind { sgd, adam, adamw };

struct optimizer_config {
  optimizer_kind kind = optimizer_kind::adam;
  float momentum = 0.9f;   // SGD
  bool nesterov = false;   // SGD
  float beta1 = 0.9f;      // Adam
  float beta2 = 0.999f;    // Adam
  float eps = 1e-8f;       // Adam
  float weight_decay = 0.f;
};

inline optimizer_kind parse_optimizer(std::string_view s) {
  if (s == "sgd") return optimizer_kind::sgd;
  if (s == "adam") return optimizer_kind::adam;
  if (s == "adamw") return optimizer_kind::adamw;
  throw std::invalid_argument("unknown optimizer '" + std::string(s) + "' (choose sgd, adam or adamw)");
}

inline const char* to_string(optimizer_kind k) {
  switch (k) {
    case optimizer_kind::sgd: return "sgd";
    case optimizer_kind::adam: return "adam";
    case optimizer_kind::adamw: return "adamw";
  }
  return "?";
}

/// Floats of state per parameter.
inline int optimizer_slots(const optimizer_config& c) {
  if (c.kind == optimizer_kind::sgd) return c.momentum != 0.f ? 1 : 0;
  return 2;
}

/// Holds the hyper-parameters and the step count; the per-parameter state lives in the model's
/// plan-sized arena (optimizer slots), so checkpoints and memory accounting see it.
class optimizer {
 public:
  explicit optimizer(optimizer_config cfg) : cfg_(cfg) {
    if (cfg.momentum < 0.f || cfg.weight_decay < 0.f || cfg.eps <= 0.f || cfg.beta1 < 0.f || cfg.beta1 >= 1.f ||
        cfg.beta2 < 0.f || cfg.beta2 >= 1.f)
      throw std::invalid_argument("spikefuse: invalid optimizer hyper-parameters");
    if (cfg.nesterov && (cfg.kind != optimizer_kind::sgd || cfg.momentum == 0.f))
      throw std::invalid_argument("spikefuse: nesterov needs SGD with momentum > 0");
  }

  const optimizer_config& config() const { return cfg_; }
  long long steps() const { return steps_; }
  void set_steps(long long s) { steps_ = s; }

  /// One update of `params` from `grads`; slot0/slot1 are the optimizer state (see optimizer_slots).
  void step(float lr, std::span<float> params, std::span<const float> grads, std::span<float> slot0,
            std::span<float> slot1) {
    ++steps_;
    const std::size_t n = params.size();
    const float wd = cfg_.weight_decay;
    if (cfg_.kind == optimizer_kind::sgd) {
      const float mu = cfg_.momentum;
      const bool first = steps_ == 1;
#pragma omp parallel for simd schedule(static) if (n > 65536)
      for (std::size_t i = 0; i < n; ++i) {
        float d = grads[i];
        if (wd != 0.f) d += wd * params[i];
        if (mu != 0.f) {
          const float buf = first ? d : mu * slot0[i] + d;
          slot0[i] = buf;
          d = cfg_.nesterov ? d + mu * buf : buf;
        }
        params[i] -= lr * d;
      }
      return;
    }
    const float b1 = cfg_.beta1, b2 = cfg_.beta2;
    const double bc1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(steps_));
    const double bc2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(steps_));
    const float step_size = static_cast<float>(lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    const bool decoupled = cfg_.kind == optimizer_kind::adamw;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (std::size_t i = 0; i < n; ++i) {
      float g = grads[i];
      if (wd != 0.f) {
        if (decoupled) {
          params[i] *= 1.f - lr * wd;
        } else {
          g += wd * params[i];
        }
      }
      const float m = slot0[i] + (1.f - b1) * (g - slot0[i]);  // lerp, as torch's exp_avg.lerp_
      const float v = slot1[i] * b2 + (1.f - b2) * g * g;
      slot0[i] = m;
      slot1[i] = v;
      params[i] -= step_size * m / (std::sqrt(v) / bc2_sqrt + cfg_.eps);
    }
  }

 private:
  optimizer_config cfg_;
  long long steps_ = 0;
};

}  // namespace spikefuse
