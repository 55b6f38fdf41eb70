// cuda::layer_impl<L>: the CUDA implementation of layer spec L — reset (start of a sequence), forward (one step), backward (one step).
//
// Each layer header specialises it next to its kernels; the primary template is one sentence. Every
// specialisation provides
//   template <class In, class Out, class Fusion> static void reset(const context&, int batch, phase, device_buffers&, uniform01&)
//   template <class In, class Out, class Fusion> static void forward(const context&, int batch, phase, const device_buffers& in, device_buffers& out)
//   template <class In, class Out, class Fusion, bool GradToInput>
//   static void backward(const context&, int batch, device_buffers& in, const device_buffers& out)
// Parameter gradients ACCUMULATE (+=); input gradients are overwritten, and written only when
// GradToInput. `Fusion` says which work a neighbouring kernel does instead (see fusion below).
#pragma once

#include <type_traits>

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/layer_buffers.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/core/random.hpp"

namespace spikefuse::cuda {

/// Device buffers of one layer: the plan's buffers (the CPU backend's roles), plus the workspace of
/// a neuron that reduces the bias gradient of the Linear feeding it.
struct device_buffers : layer_buffers {
  float* bias_partials = nullptr;     // per-block partial sums of db
  unsigned* bias_arrivals = nullptr;  // ... and the arrival counters of its reduction
  // A neuron whose kernels also do the Scale and/or pooling after it: the output, output trace and
  // ∂out of the last node they compute.
  float* fused_out = nullptr;
  float* fused_out_trace = nullptr;
  float* fused_grad_out = nullptr;
};

/// Work moved into a neighbour's kernel, fixed at compile time from the declaration:
///   bias_from_input  a neuron fed by a Linear with bias adds that bias in its forward kernel and
///                    reduces its gradient in its backward kernel;
///   bias_by_consumer a Linear with bias whose next kernel (a neuron, or the loss at the head) does
///                    both, so its own GEMM runs with β = 0 and it launches nothing for the bias.
///   scale_follows    a neuron whose only reader is a Scale<c> (c = scale_factor): its kernels write
///                    c·s and c·â into the Scale's buffers and scale the Scale's ∂out by c;
///   pool_follows     a neuron whose only reader is an average pooling whose windows tile the plane
///                    (neuron_pool::tiling, PoolTiling), directly or through a fused Scale: its
///                    kernels write the pooled c·s and c·â into the pooling's buffers and read the
///                    pooling's ∂out; the full-resolution ∂s is never formed;
///   done_by_producer a Scale or a pooling whose neuron does its work: it launches nothing.
template <bool BiasFromInput, bool BiasByConsumer, bool ScaleFollows = false, float ScaleFactor = 1.f,
          bool DoneByProducer = false, class PoolTiling = void>
struct fusion {
  static constexpr bool bias_from_input = BiasFromInput;
  static constexpr bool bias_by_consumer = BiasByConsumer;
  static constexpr bool scale_follows = ScaleFollows;
  static constexpr float scale_factor = ScaleFactor;
  static constexpr bool done_by_producer = DoneByProducer;
  static constexpr bool pool_follows = !std::is_void_v<PoolTiling>;
  using pool_tiling = PoolTiling;
};

template <class>
inline constexpr bool no_cuda_implementation = false;

template <class Layer>
struct layer_impl {
  static_assert(no_cuda_implementation<Layer>, "spikefuse: the CUDA backend has no implementation for this layer");
};

/// Layers with nothing to reset at the start of a sequence inherit this.
struct stateless_layer {
  template <class In, class Out, class Fusion>
  static void reset(const context&, int, phase, device_buffers&, uniform01&) {}
};

}  // namespace spikefuse::cuda
