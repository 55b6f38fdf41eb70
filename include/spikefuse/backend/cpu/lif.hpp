// Fused CPU LIF step: one pass computes h, s, v, â and ψ = g'(h − θ); one pass computes ∂x = ∂s·ψ (/τ).
#pragma once

#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif_math.hpp"

namespace spikefuse::cpu {

/// Forward of `n` elements. `trace` is updated only in training phases of an OTTT neuron (keeps_trace);
/// `psi` only when a backward follows.
template <class Neuron>
void lif_forward(phase ph, long long n, const float* __restrict x, float* __restrict v,
                 float* __restrict trace, float* __restrict spike, float* __restrict psi) {
  constexpr lif_params P = Neuron::params;
  using Surrogate = typename Neuron::surrogate_type;
  constexpr float threshold = lif_constants<P>::threshold;
  const bool keep_trace = Neuron::keeps_trace && is_training(ph);
  const bool keep_psi = ph == phase::train;
  // Three loop versions so that the hot loop carries no per-element branch on the phase.
  if (keep_psi && keep_trace) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (long long i = 0; i < n; ++i) {
      const auto r = lif::step<P>(v[i], x[i]);
      spike[i] = r.spike;
      v[i] = r.v;
      trace[i] = lif::trace<P>(trace[i], r.spike);
      psi[i] = Surrogate::derivative(r.h - threshold);
    }
  } else if (keep_psi) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (long long i = 0; i < n; ++i) {
      const auto r = lif::step<P>(v[i], x[i]);
      spike[i] = r.spike;
      v[i] = r.v;
      psi[i] = Surrogate::derivative(r.h - threshold);
    }
  } else if (keep_trace) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (long long i = 0; i < n; ++i) {
      const auto r = lif::step<P>(v[i], x[i]);
      spike[i] = r.spike;
      v[i] = r.v;
      trace[i] = lif::trace<P>(trace[i], r.spike);
    }
  } else {
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (long long i = 0; i < n; ++i) {
      const auto r = lif::step<P>(v[i], x[i]);
      spike[i] = r.spike;
      v[i] = r.v;
    }
  }
}

/// Backward of `n` elements: grad_x = grad_spike·ψ (/τ when decay_input). Overwrites grad_x (= not a parameter).
template <class Neuron>
void lif_backward(long long n, const float* __restrict grad_spike, const float* __restrict psi,
                  float* __restrict grad_x) {
  constexpr lif_params P = Neuron::params;
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) grad_x[i] = lif::input_grad<P>(grad_spike[i], psi[i]);
}

}  // namespace spikefuse::cpu
