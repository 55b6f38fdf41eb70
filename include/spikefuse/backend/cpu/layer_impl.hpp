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

#include "spikefuse/backend/layer_buffers.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/core/random.hpp"

namespace spikefuse::cpu {

using spikefuse::layer_buffers;

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
