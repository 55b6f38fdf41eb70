// cuda::layer_impl for OTTTLIF / SLTTLIF: v = v_init and â = 0 at the start of a sequence; one fused kernel per step each way (lif.cuh), which also does a Scale and an average pooling that follow.
#pragma once

#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/lif.cuh"
#include "spikefuse/neuron/lif.hpp"

namespace spikefuse::cuda {

template <class Neuron>
struct lif_layer_impl {
  template <class In, class Out, class Fusion>
  static void reset(const context& ctx, int batch, phase, device_buffers& b, uniform01&) {
    const long long n = static_cast<long long>(batch) * Out::size;
    constexpr float v0 = lif_constants<Neuron::params>::v_init;
    if constexpr (v0 == 0.f) {
      ctx.zero(b.v, n);
    } else {
      launch_elementwise(ctx, n, fill_op{b.v, v0});
    }
    if (b.trace) ctx.zero(b.trace, n);
  }
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase ph, const device_buffers& in, device_buffers& b) {
    constexpr bool spikes_read_inside = Fusion::scale_follows || Fusion::pool_follows;
    float* spikes = (spikes_read_inside && !ctx.keep_fused_spikes) ? nullptr : b.out;
    if constexpr (Fusion::pool_follows) {
      static_assert(!Fusion::bias_from_input, "spikefuse: internal: a pooled neuron does not add a Linear's bias");
      lif_pool_forward<Neuron, typename Fusion::pool_tiling>(
          ctx, ph, static_cast<long long>(batch) * Out::dims.c,
          neuron_pool::forward_buffers{in.out, b.v, b.trace, b.psi, spikes, b.fused_out, b.fused_out_trace}, b.spike_bits,
          Fusion::scale_factor);
    } else {
      const float* bias = Fusion::bias_from_input ? in.bias : nullptr;
      lif_forward<Neuron, Out::size, Fusion::scale_follows>(
          ctx, ph, static_cast<long long>(batch) * Out::size, in.out, bias, b.v, b.trace, spikes, {b.psi, b.spike_bits},
          fused_scale{Fusion::scale_factor, b.fused_out, b.fused_out_trace});
    }
  }
  // Runs after this step's forward and before the next: b.v is still the membrane after this step,
  // from which ψ is recomputed where the forward kept spike bits.
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    const lif::surrogate_source psi_source{b.psi, b.spike_bits, b.v};
    if constexpr (GradToInput && Fusion::pool_follows) {
      // ∂L/∂(pooled c·s) arrives in the pooling's buffer.
      lif_pool_backward<Neuron, typename Fusion::pool_tiling>(ctx, static_cast<long long>(batch) * Out::dims.c,
                                                                b.fused_grad_out, psi_source, in.grad_out, Fusion::scale_factor);
    } else if constexpr (GradToInput) {
      float* grad_bias = Fusion::bias_from_input ? in.grad_bias : nullptr;
      // With a fused Scale, ∂L/∂(c·s) arrives in the Scale's buffer; the kernel multiplies by c.
      lif_backward<Neuron, Out::size, Fusion::scale_follows>(ctx, batch, Fusion::scale_follows ? b.fused_grad_out : b.grad_out,
                                                             psi_source, in.grad_out, grad_bias, b.bias_partials, b.bias_arrivals,
                                                             Fusion::scale_factor);
    }
  }
};

template <ottt_params P, class S>
struct layer_impl<OTTTLIF<P, S>> : lif_layer_impl<OTTTLIF<P, S>> {};
template <sltt_params P, class S>
struct layer_impl<SLTTLIF<P, S>> : lif_layer_impl<SLTTLIF<P, S>> {};

}  // namespace spikefuse::cuda
