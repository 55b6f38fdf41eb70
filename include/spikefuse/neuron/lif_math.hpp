// LIF step: h = charge(v, x); s = Θ(h − θ); v ← reset(h, s); trace â ← (1 − 1/τ)·â + s.
//
// Written once for host and device; the CPU loops and the CUDA kernels both call these functions.
// Operation order follows SpikingJelly's CPU kernels (`_ops/lif/cpu.py`, spec §A.2), so that
// results agree to the last bit:
//   decay_input:   h = v + (x − (v − V_r)) / τ
//   otherwise:     h = v − (v − V_r) / τ + x            (V_r = 0 for a soft reset)
//   hard reset:    v = s·V_r + (1 − s)·h ;  soft reset: v = h − s·θ
//   trace:         â = â·(1 − 1/τ) + s                 (1 − 1/τ rounded from double, like Python)
//   backward:      ∂x = g_s·ψ / τ if decay_input else g_s·ψ,  ψ = g'(h − θ)  (v[t−1] is detached)
//   soft reset:    ψ = g'(s ? v : v − θ) from the state after the step, equal to the last bit
#pragma once

#include "spikefuse/config.hpp"
#include "spikefuse/core/math.hpp"
#include "spikefuse/neuron/lif_params.hpp"

namespace spikefuse {

/// Constants of one LIF parameter set, folded at compile time; device code sees only floats.
template <lif_params P>
struct lif_constants {
  static constexpr float tau = static_cast<float>(P.tau);
  static constexpr float threshold = static_cast<float>(P.v_threshold);
  static constexpr float hard_reset_value = static_cast<float>(P.reset.v_reset);
  static constexpr float v_init = P.reset.soft ? 0.f : static_cast<float>(P.reset.v_reset);
  static constexpr float trace_decay = static_cast<float>(1.0 - 1.0 / P.tau);
  static constexpr bool decay_input = P.decay_input;
  static constexpr bool soft_reset = P.reset.soft;
  // The charge leaks toward V_r for a hard reset and toward 0 for a soft one (spec §A.2).
  static constexpr float charge_rest = P.reset.soft ? 0.f : hard_reset_value;
};

namespace lif {

template <lif_params P>
SF_HOST_DEVICE constexpr float charge(float v, float x) {
  using K = lif_constants<P>;
  if constexpr (K::decay_input) {
    return v + (x - (v - K::charge_rest)) / K::tau;
  } else {
    return v - (v - K::charge_rest) / K::tau + x;
  }
}

template <lif_params P>
SF_HOST_DEVICE constexpr float fire(float h) {
  return h - lif_constants<P>::threshold >= 0.f ? 1.f : 0.f;
}

template <lif_params P>
SF_HOST_DEVICE constexpr float reset(float h, float spike) {
  using K = lif_constants<P>;
  if constexpr (K::soft_reset) {
    return h - spike * K::threshold;
  } else {
    return spike * K::hard_reset_value + (1.f - spike) * h;
  }
}

template <lif_params P>
SF_HOST_DEVICE constexpr float trace(float trace_prev, float spike) {
  return math::mul_rn(trace_prev, lif_constants<P>::trace_decay) + spike;
}

/// Gradient w.r.t. the input current x of one step, given ∂L/∂s and ψ = g'(h − θ).
template <lif_params P>
SF_HOST_DEVICE constexpr float input_grad(float grad_spike, float psi) {
  using K = lif_constants<P>;
  const float grad_h = grad_spike * psi;
  if constexpr (K::decay_input) {
    return grad_h / K::tau;
  } else {
    return grad_h;
  }
}

/// Result of one forward step of one element.
struct step_result {
  float spike;
  float v;      // after reset
  float h;      // charged, before reset
};

template <lif_params P>
SF_HOST_DEVICE constexpr step_result step(float v, float x) {
  const float h = charge<P>(v, x);
  const float s = fire<P>(h);
  return step_result{s, reset<P>(h, s), h};
}

/// One element of a fused forward step, as both backends run it: v (and â when KeepTrace) updated in
/// place, ψ = g'(h − θ) written when KeepPsi (a backward follows); returns the spike.
template <lif_params P, class Surrogate, bool KeepTrace, bool KeepPsi>
SF_HOST_DEVICE constexpr float fused_forward(float x, float& v, float& trace, float& psi) {
  const step_result r = step<P>(v, x);
  v = r.v;
  if constexpr (KeepTrace) trace = lif::trace<P>(trace, r.spike);
  if constexpr (KeepPsi) psi = Surrogate::derivative(r.h - lif_constants<P>::threshold);
  return r.spike;
}

/// After a soft reset v = h − s·θ, rounded once: for s = 1 that is the same rounding of h − θ the
/// forward gave the surrogate, and for s = 0 v is h itself. So ψ is a function of the membrane after
/// the step and the spike, equal to the stored ψ to the last bit, and a backward that runs before
/// the next forward (every online step) needs one bit per neuron instead of a float. A hard reset
/// forgets h when the neuron fires: ψ must be stored.
template <lif_params P>
inline constexpr bool psi_from_state_exact = P.reset.soft;

template <lif_params P, class Surrogate>
SF_HOST_DEVICE constexpr float psi_from_state(float v_after, bool spiked) {
  static_assert(psi_from_state_exact<P>, "spikefuse: internal: ψ is recomputed from the state only after a soft reset");
  return Surrogate::derivative(spiked ? v_after : v_after - lif_constants<P>::threshold);
}

}  // namespace lif
}  // namespace spikefuse
