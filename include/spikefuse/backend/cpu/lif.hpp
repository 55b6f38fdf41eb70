// Fused CPU LIF step: one pass computes h, s, v, â and what the backward needs (ψ = g'(h − θ), or the spike bits); one pass computes ∂x = ∂s·ψ (/τ).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/config.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif.hpp"
#include "spikefuse/neuron/lif_math.hpp"
#include "spikefuse/neuron/surrogate_record.hpp"

namespace spikefuse::cpu {

template <class Neuron, bool KeepTrace, bool KeepPsi>
SF_CPU_CLONES void lif_forward_loop(long long n, const float* __restrict x, float* __restrict v, float* __restrict trace,
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

/// Bit j of a spike word. A table, not 1u << j: SSE2 has no per-lane variable shift, so the word
/// loops below would stay scalar; a load from the table vectorises.
inline constexpr std::array<std::uint32_t, 32> lane_bit = [] {
  std::array<std::uint32_t, 32> bits{};
  for (int j = 0; j < 32; ++j) bits[j] = 1u << j;
  return bits;
}();

/// The forward step, then the spikes packed into bits, 32 neurons (one word) at a time so that no
/// two threads write one word. Two loops: the neuron loop stays the vectorised one above.
template <class Neuron, bool KeepTrace>
SF_CPU_CLONES void lif_forward_bits_loop(long long n, const float* __restrict x, float* __restrict v, float* __restrict trace,
                           float* __restrict spike, lif::spike_word* __restrict spike_bits) {
  lif_forward_loop<Neuron, KeepTrace, false>(n, x, v, trace, spike, nullptr);
  const long long words = lif::spike_bit_words(n);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (long long w = 0; w < words; ++w) {
    const float* word_spikes = spike + 32 * w;
    const int count = static_cast<int>(std::min(n - 32 * w, 32LL));
    // A spike is exactly 0.f or 1.f, so its bits are zero only when it is 0. An integer mask and a
    // load on every lane: GCC vectorises this, and keeps `s != 0.f ? lane_bit[j] : 0` as a branch.
    std::uint32_t bits = 0;
#pragma omp simd reduction(| : bits)
    for (int j = 0; j < count; ++j) {
      const std::uint32_t fired = std::bit_cast<std::uint32_t>(word_spikes[j]) != 0u;
      bits |= lane_bit[j] & (0u - fired);
    }
    spike_bits[w] = bits;
  }
}

/// Forward of `n` elements. `trace` is updated only in training phases of an OTTT neuron (keeps_trace);
/// `record` (ψ or the spike bits) only when a backward follows.
template <class Neuron>
void lif_forward(phase ph, long long n, const float* __restrict x, float* __restrict v, float* __restrict trace,
                 float* __restrict spike, lif::surrogate_record record) {
  const bool keep_trace = Neuron::keeps_trace && is_training(ph);
  const lif::kept_for_backward keep = lif::kept_by<Neuron>(ph, record);
  if constexpr (lif::psi_from_state_exact<Neuron::params>) {
    if (keep == lif::kept_for_backward::spike_bits) {
      if (keep_trace) {
        lif_forward_bits_loop<Neuron, true>(n, x, v, trace, spike, record.spike_bits);
      } else {
        lif_forward_bits_loop<Neuron, false>(n, x, v, trace, spike, record.spike_bits);
      }
      return;
    }
  }
  const bool backward_follows = keep == lif::kept_for_backward::psi;
  // Four loop versions so that the hot loop carries no per-element branch on the phase.
  if (backward_follows && keep_trace) {
    lif_forward_loop<Neuron, true, true>(n, x, v, trace, spike, record.psi);
  } else if (backward_follows) {
    lif_forward_loop<Neuron, false, true>(n, x, v, trace, spike, record.psi);
  } else if (keep_trace) {
    lif_forward_loop<Neuron, true, false>(n, x, v, trace, spike, nullptr);
  } else {
    lif_forward_loop<Neuron, false, false>(n, x, v, trace, spike, nullptr);
  }
}

template <class Neuron>
SF_CPU_CLONES void lif_backward_loop(long long n, const float* __restrict grad_spike, const float* __restrict psi,
                       float* __restrict grad_x) {
  constexpr lif_params P = Neuron::params;
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) grad_x[i] = lif::input_grad<P>(grad_spike[i], psi[i]);
}

/// ψ from the spike bits and the membrane, a word (32 neurons) at a time: the bit of a neuron is one
/// loaded word masked by lane_bit, and the inner loop vectorises.
template <class Neuron>
SF_CPU_CLONES void lif_backward_bits_loop(long long n, const float* __restrict grad_spike, const lif::spike_word* __restrict spike_bits,
                            const float* __restrict v, float* __restrict grad_x) {
  constexpr lif_params P = Neuron::params;
  using Surrogate = typename Neuron::surrogate_type;
  const long long words = lif::spike_bit_words(n);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (long long w = 0; w < words; ++w) {
    const std::uint32_t bits = spike_bits[w];
    const long long begin = 32 * w;
    const int count = static_cast<int>(std::min(n - begin, 32LL));
#pragma omp simd
    for (int j = 0; j < count; ++j) {
      const float psi = lif::psi_from_state<P, Surrogate>(v[begin + j], (bits & lane_bit[j]) != 0u);
      grad_x[begin + j] = lif::input_grad<P>(grad_spike[begin + j], psi);
    }
  }
}

/// Backward of `n` elements: grad_x = grad_spike·ψ (/τ when decay_input), ψ read from `source`
/// (stored, or from the spike bits and the membrane the forward left). Overwrites grad_x (= not a parameter).
template <class Neuron>
void lif_backward(long long n, const float* __restrict grad_spike, const lif::surrogate_source& source,
                  float* __restrict grad_x) {
  [[maybe_unused]] const bool from_bits = lif::psi_from_spike_bits<Neuron>(source);
  if constexpr (lif::psi_from_state_exact<Neuron::params>) {
    if (from_bits) return lif_backward_bits_loop<Neuron>(n, grad_spike, source.spike_bits, source.v, grad_x);
  }
  lif_backward_loop<Neuron>(n, grad_spike, source.psi, grad_x);
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
    lif_forward<Neuron>(ph, static_cast<long long>(batch) * Out::size, in.out, b.v, b.trace, b.out, {b.psi, b.spike_bits});
  }
  // Runs after this step's forward and before the next: b.v is still the membrane after this step.
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    if constexpr (GradToInput)
      lif_backward<Neuron>(static_cast<long long>(batch) * Out::size, b.grad_out, {b.psi, b.spike_bits, b.v}, in.grad_out);
  }
};

template <ottt_params P, class S>
struct layer_impl<OTTTLIF<P, S>> : lif_layer_impl<OTTTLIF<P, S>> {};
template <sltt_params P, class S>
struct layer_impl<SLTTLIF<P, S>> : lif_layer_impl<SLTTLIF<P, S>> {};

}  // namespace spikefuse::cpu
