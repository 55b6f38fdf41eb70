// Fused CPU LIF step: one pass computes h, s, v, â and ψ = g'(h − θ); one pass computes ∂x = ∂s·ψ (/τ).
#pragma once

#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif.hpp"
#include "spikefuse/neuron/lif_math.hpp"

namespace spikefuse::cpu {

template <class Neuron, bool KeepTrace, bool KeepPsi>
void lif_forward_loop(long long n, const float* __restrict x, float* __restrict v, float* __restrict trace,
                      float* __restrict spike, float* __restrict psi) {
  constexpr lif_params P = Neuron::params;
  using Surrogate = typename Neuron::surrogate_type;
  // Values in locals, loads and stores outside the call: the loop stays vectorisable.
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) {
    float v_i = v[i];
    float trace_i = 0.f;
    if constexpr (KeepTrace) trace_i = trace[i];
    float psi_i = 0.f;
    spike[i] = lif::fused_forward<P, Surrogate, KeepTrace, KeepPsi>(x[i], v_i, trace_i, psi_i);
    v[i] = v_i;
    if constexpr (KeepTrace) trace[i] = trace_i;
    if constexpr (KeepPsi) psi[i] = psi_i;
  }
}

/// Forward of `n` elements. `trace` is updated only in training phases of an OTTT neuron (keeps_trace);
/// `psi` only when a backward follows.
template <class Neuron>
void lif_forward(phase ph, long long n, const float* __restrict x, float* __restrict v,
                 float* __restrict trace, float* __restrict spike, float* __restrict psi) {
  const bool keep_trace = Neuron::keeps_trace && is_training(ph);
  const bool keep_psi = ph == phase::train;
  // Four loop versions so that the hot loop carries no per-element branch on the phase.
  if (keep_psi && keep_trace) {
    lif_forward_loop<Neuron, true, true>(n, x, v, trace, spike, psi);
  } else if (keep_psi) {
    lif_forward_loop<Neuron, false, true>(n, x, v, trace, spike, psi);
  } else if (keep_trace) {
    lif_forward_loop<Neuron, true, false>(n, x, v, trace, spike, psi);
  } else {
    lif_forward_loop<Neuron, false, false>(n, x, v, trace, spike, psi);
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

/// OTTTLIF and SLTTLIF: v = v_init and â = 0 at the start of a sequence; one fused pass per step each way.
template <class Neuron>
struct lif_layer_impl {
  template <class In, class Out>
  static void reset(int batch, phase, layer_buffers& b, uniform01&) {
    const long long n = static_cast<long long>(batch) * Out::size;
    const float v0 = lif_constants<Neuron::params>::v_init;
    for (long long i = 0; i < n; ++i) b.v[i] = v0;
    if (b.trace)
      for (long long i = 0; i < n; ++i) b.trace[i] = 0.f;
  }
  template <class In, class Out>
  static void forward(int batch, phase ph, const layer_buffers& in, layer_buffers& b) {
    lif_forward<Neuron>(ph, static_cast<long long>(batch) * Out::size, in.out, b.v, b.trace, b.out, b.psi);
  }
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    if constexpr (GradToInput) lif_backward<Neuron>(static_cast<long long>(batch) * Out::size, b.grad_out, b.psi, in.grad_out);
  }
};

template <ottt_params P, class S>
struct layer_impl<OTTTLIF<P, S>> : lif_layer_impl<OTTTLIF<P, S>> {};
template <sltt_params P, class S>
struct layer_impl<SLTTLIF<P, S>> : lif_layer_impl<SLTTLIF<P, S>> {};

}  // namespace spikefuse::cpu
