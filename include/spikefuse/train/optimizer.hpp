// Optimizers on a flat parameter vector, PyTorch semantics: SGD (momentum, dampening 0, nesterov, L2) and Adam/AdamW.
//
//   SGD:   d = g + wd·p;  b = μ·b + d (b = d at the first step);  d = nesterov ? d + μ·b : b;  p −= lr·d
//   Adam:  g += wd·p (Adam) or p ·= 1 − lr·wd (AdamW);  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//          p −= lr/(1−β1^k) · m / (√v/√(1−β2^k) + ε)
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "spikefuse/config.hpp"
#include "spikefuse/core/math.hpp"

namespace spikefuse {

enum class optimizer_kind { sgd, adam, adamw };

struct optimizer_config {
  optimizer_kind kind = optimizer_kind::adam;
  float momentum = 0.9f;   // SGD
  bool nesterov = false;   // SGD
  double beta1 = 0.9;      // Adam; double, as PyTorch's Python floats: 1 − β is formed before rounding
                           // (write 0.999, not 0.999f, whose 1 − β is 1.3e-5 off PyTorch's)
  double beta2 = 0.999;    // Adam
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

/// Coefficients of one optimizer step (host-computed, applied per parameter on either backend).
struct optimizer_step {
  optimizer_kind kind;
  float lr, weight_decay;
  float momentum;        // SGD
  bool nesterov;         // SGD
  bool first_step;       // SGD: the momentum buffer starts as the first gradient
  float beta2, eps;
  float one_minus_beta1;  // Adam: 1 − β1 and 1 − β2 rounded once from double, as PyTorch's lerp_ and
  float one_minus_beta2;  // addcmul_ receive them (1.f − 0.999f is 1.3e-5 off 0.001f)
  float decay_factor;    // AdamW: 1 − lr·wd, rounded once
  float step_size;       // Adam: lr / (1 − β1^k)
  float bc2_sqrt;        // Adam: √(1 − β2^k)
};

/// Updates parameter i for one optimizer kind (and, for SGD, with or without momentum); slot0 is SGD's
/// momentum buffer or Adam's m, slot1 Adam's v. The runtime coefficients enter as selects, and every
/// element loads and stores the same slots: a CPU loop over i then vectorises (a store under a branch
/// would keep it scalar).
template <optimizer_kind Kind, bool Momentum>
SF_HOST_DEVICE constexpr void update_parameter_as(const optimizer_step& c, std::size_t i, float* params,
                                                  const float* grads, float* slot0, float* slot1) {
  const float wd = c.weight_decay;
  float p = params[i];
  float g = grads[i];
  if constexpr (Kind == optimizer_kind::sgd) {
    if (wd != 0.f) g += wd * p;
    if constexpr (Momentum) {
      const float buf = c.first_step ? g : c.momentum * slot0[i] + g;
      slot0[i] = buf;
      g = c.nesterov ? g + c.momentum * buf : buf;
    }
    params[i] = p - c.lr * g;
  } else {
    if constexpr (Kind == optimizer_kind::adamw) {
      if (wd != 0.f) p *= c.decay_factor;
    } else {
      if (wd != 0.f) g += wd * p;
    }
    const float m = slot0[i] + c.one_minus_beta1 * (g - slot0[i]);  // lerp, as torch's exp_avg.lerp_
    const float v = slot1[i] * c.beta2 + c.one_minus_beta2 * g * g;
    slot0[i] = m;
    slot1[i] = v;
    params[i] = p - c.step_size * m / (math::sqrt(v) / c.bc2_sqrt + c.eps);
  }
}

/// Calls f.template operator()<Kind, Momentum>() for the kind chosen at run time (SGD: with or without
/// momentum), so that each backend runs one loop or kernel per kind, with no branch per element.
template <class F>
void with_update_kind(const optimizer_step& c, F&& f) {
  switch (c.kind) {
    case optimizer_kind::sgd:
      if (c.momentum != 0.f) return f.template operator()<optimizer_kind::sgd, true>();
      return f.template operator()<optimizer_kind::sgd, false>();
    case optimizer_kind::adam: return f.template operator()<optimizer_kind::adam, true>();
    case optimizer_kind::adamw: return f.template operator()<optimizer_kind::adamw, true>();
  }
}

/// Holds the hyper-parameters and the step count; the per-parameter state lives in the model's
/// plan-sized arena (optimizer slots), so checkpoints and memory accounting see it.
class optimizer {
 public:
  explicit optimizer(optimizer_config cfg) : cfg_(cfg) {
    if (cfg.momentum < 0.f || cfg.weight_decay < 0.f || cfg.eps <= 0.f || cfg.beta1 < 0.0 || cfg.beta1 >= 1.0 ||
        cfg.beta2 < 0.0 || cfg.beta2 >= 1.0)
      throw std::invalid_argument("spikefuse: invalid optimizer hyper-parameters");
    if (cfg.nesterov && (cfg.kind != optimizer_kind::sgd || cfg.momentum == 0.f))
      throw std::invalid_argument("spikefuse: nesterov needs SGD with momentum > 0");
  }

  const optimizer_config& config() const { return cfg_; }
  long long steps() const { return steps_; }
  void set_steps(long long s) { steps_ = s; }

  /// Advances the step count and returns this step's coefficients for the element updates below:
  /// the host computes them once, the CPU loop and the CUDA kernel apply them per parameter.
  optimizer_step begin_step(float lr) {
    ++steps_;
    optimizer_step c{};
    c.kind = cfg_.kind;
    c.lr = lr;
    c.weight_decay = cfg_.weight_decay;
    c.momentum = cfg_.momentum;
    c.nesterov = cfg_.nesterov;
    c.first_step = steps_ == 1;
    c.beta2 = static_cast<float>(cfg_.beta2);
    c.eps = cfg_.eps;
    c.one_minus_beta1 = static_cast<float>(1.0 - cfg_.beta1);
    c.one_minus_beta2 = static_cast<float>(1.0 - cfg_.beta2);
    c.decay_factor = static_cast<float>(1.0 - static_cast<double>(lr) * cfg_.weight_decay);
    const double bc1 = 1.0 - std::pow(cfg_.beta1, static_cast<double>(steps_));
    const double bc2 = 1.0 - std::pow(cfg_.beta2, static_cast<double>(steps_));
    c.step_size = static_cast<float>(lr / bc1);
    c.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    return c;
  }

  /// One update of `params` from `grads`; slot0/slot1 are the optimizer state (see optimizer_slots).
  void step(float lr, std::span<float> params, std::span<const float> grads, std::span<float> slot0,
            std::span<float> slot1) {
    const optimizer_step c = begin_step(lr);
    const std::size_t n = params.size();
    float* p = params.data();
    const float* g = grads.data();
    float* s0 = slot0.data();
    float* s1 = slot1.data();
    with_update_kind(c, [&]<optimizer_kind Kind, bool Momentum>() { update_all<Kind, Momentum>(c, n, p, g, s0, s1); });
  }

 private:
  template <optimizer_kind Kind, bool Momentum>
  SF_CPU_CLONES static void update_all(optimizer_step c, std::size_t n, float* __restrict p, const float* __restrict g,
                         float* __restrict s0, float* __restrict s1) {
    // Each thread's own copy of c: its fields are then loop constants, not loads that the stores to
    // p might alias.
#pragma omp parallel for simd schedule(static) firstprivate(c) if (n > 65536)
    for (std::size_t i = 0; i < n; ++i) update_parameter_as<Kind, Momentum>(c, i, p, g, s0, s1);
  }

  optimizer_config cfg_;
  long long steps_ = 0;
};

}  // namespace spikefuse
