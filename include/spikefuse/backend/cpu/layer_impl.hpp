// layer_impl<L>: the CPU implementation of layer spec L — reset (start of a sequence), forward (one step), backward (one step).
//
// Each layer header specialises it next to its kernels; the primary template is one sentence, so a
// layer the CPU backend does not know is a single compile error. Every specialisation provides
//   template <class In, class Out> static void reset(int batch, phase, layer_buffers&, uniform01&)
//   template <class In, class Out> static void forward(int batch, phase, const layer_buffers& in, layer_buffers& out)
//   template <class In, class Out, bool GradToInput>
//   static void backward(int batch, layer_buffers& in, const layer_buffers& out)
// where In/Out are the ports around the layer. Parameter gradients ACCUMULATE (+=); input gradients
// are overwritten, and written only when GradToInput (a parametric layer lies below).
#pragma once

#include "spikefuse/core/phase.hpp"
#include "spikefuse/core/random.hpp"

namespace spikefuse::cpu {

/// Buffers of one layer, carved from the arena by the model (nullptr where the plan gives none).
struct layer_buffers {
  float* out = nullptr;         // output of this step
  float* out_trace = nullptr;   // OTTT trace flowing out (a neuron's state, or a pass-through's copy)
  float* psi = nullptr;         // surrogate derivative kept for this step's backward
  float* grad_out = nullptr;    // ∂L_t/∂out
  float* v = nullptr;           // membrane (state)
  float* trace = nullptr;       // OTTT trace (state)
  float* mask = nullptr;        // dropout mask (state)
  float* logits_sum = nullptr;  // Σ_t logits (network head only)
  float* weight = nullptr;
  float* bias = nullptr;
  float* grad_weight = nullptr;
  float* grad_bias = nullptr;
};

using spikefuse::uniform01;

template <class>
inline constexpr bool no_cpu_implementation = false;

template <class Layer>
struct layer_impl {
  static_assert(no_cpu_implementation<Layer>, "spikefuse: the CPU backend has no implementation for this layer");
};

/// Layers with nothing to reset at the start of a sequence inherit this.
struct stateless_layer {
  template <class In, class Out>
  static void reset(int, phase, layer_buffers&, uniform01&) {}
};

}  // namespace spikefuse::cpu
