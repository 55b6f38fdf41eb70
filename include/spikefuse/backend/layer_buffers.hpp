// layer_buffers: the per-node buffers of the memory plan (output, trace, ψ or spike bits, ∂out, state, parameters, scratch) as one pointer record, shared by the backends.
#pragma once

#include <cstdint>

#include "spikefuse/neuron/surrogate_record.hpp"

namespace spikefuse {

/// Buffers of one node, carved by a backend's model from its arena (nullptr where the plan gives none):
/// host memory on the CPU backend, device memory on the CUDA backend.
struct layer_buffers {
  float* out = nullptr;         // output of this step
  float* out_trace = nullptr;   // OTTT trace flowing out (a neuron's state, or a pass-through's copy)
  float out_trace_factor = 1.f; // the trace flowing out is out_trace × this (CUDA: a fused Scale reads the neuron's state)
  float* psi = nullptr;         // surrogate derivative kept for this step's backward
  lif::spike_word* spike_bits = nullptr;  // or this step's spikes, one bit each, to recompute it from v (soft reset)
  float* grad_out = nullptr;    // ∂L_t/∂out
  float* v = nullptr;           // membrane (state)
  float* trace = nullptr;       // OTTT trace (state)
  float* mask = nullptr;        // dropout mask (state)
  float* logits_sum = nullptr;  // Σ_t logits (network head only)
  float* weight = nullptr;
  float* bias = nullptr;
  float* gain = nullptr;        // weight standardisation gain
  float* grad_weight = nullptr;
  float* grad_bias = nullptr;
  float* grad_gain = nullptr;
  float* statistics = nullptr;  // running mean, then running variance (BatchNorm)
  float* saved = nullptr;       // per-step values kept for the backward (BatchNorm: batch mean, 1/σ)
  float* weight_hat = nullptr;  // standardised weight Ŵ
  float* grad_weight_hat = nullptr;  // ∂Ŵ of this step's backward
  float* grad_scratch = nullptr;  // where ∂input goes when it must be added to another consumer's share
  float* scratch = nullptr;     // shared im2col columns
  float* grad_sum = nullptr;    // Σ_t ∂out over the batch (deferred weight gradient, CPU backend)
};

}  // namespace spikefuse
