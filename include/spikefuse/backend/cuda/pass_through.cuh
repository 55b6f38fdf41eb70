// CUDA pass-through layers: y = c·x (Scale), y = m ⊙ x (Dropout, Dropout2d) on spikes and trace in one kernel; ∂x = c·∂y or m ⊙ ∂y.
#pragma once

#include <vector>

#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/layer/dropout.hpp"
#include "spikefuse/layer/flatten.hpp"
#include "spikefuse/layer/scale.hpp"

namespace spikefuse::cuda {

/// out = factor·in, and out2 = factor·in2 when given (the OTTT trace beside the spikes).
struct scale_op {
  float factor;
  const float* in;
  float* out;
  const float* in2;
  float* out2;
  __device__ void operator()(long long i) const {
    out[i] = in[i] * factor;
    if (out2) out2[i] = in2[i] * factor;
  }
};

/// out = in ⊙ mask, and out2 = in2 ⊙ mask when given; `plane` elements share one mask value
/// (1 for Dropout, H·W for Dropout2d's per-channel mask).
struct mask_op {
  const float* mask;
  const float* in;
  float* out;
  const float* in2;
  float* out2;
  long long plane = 1;
  __device__ void operator()(long long i) const {
    const float m = mask[i / plane];
    out[i] = in[i] * m;
    if (out2) out2[i] = in2[i] * m;
  }
};

/// Launches nothing when the neuron before it does its work (Fusion::done_by_producer, lif.cuh).
template <auto Factor>
struct layer_impl<Scale<Factor>> : stateless_layer {
  static constexpr float factor = Scale<Factor>::factor;
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase ph, const device_buffers& in, device_buffers& b) {
    if constexpr (Fusion::done_by_producer) return;
    const bool trace = Out::traced && is_training(ph);
    launch_elementwise(ctx, static_cast<long long>(batch) * Out::size,
                       scale_op{factor, in.out, b.out, trace ? in.out_trace : nullptr, trace ? b.out_trace : nullptr});
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    if constexpr (GradToInput && !Fusion::done_by_producer)
      launch_elementwise(ctx, static_cast<long long>(batch) * Out::size,
                         scale_op{factor, b.grad_out, in.grad_out, nullptr, nullptr});
  }
};

/// One mask per sequence, drawn at reset in training phases from the model's uniform01 stream on the
/// host (the CPU backend's draws, in the same order) and uploaded: 0 with probability p, else 1/(1 − p).
template <class D>
struct dropout_layer_impl {
  template <class Out>
  static constexpr long long plane = D::per_channel ? Out::dims.h * Out::dims.w : 1;

  template <class In, class Out, class Fusion>
  static void reset(const context& ctx, int batch, phase ph, device_buffers& b, uniform01& uniform) {
    if (!is_training(ph)) return;
    std::vector<float> mask(static_cast<std::size_t>(batch * Out::size / plane<Out>));
    const float kept_value = 1.f / (1.f - D::probability);
    for (auto& m : mask) m = uniform() >= D::probability ? kept_value : 0.f;
    ctx.upload_now(b.mask, mask);
  }
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase ph, const device_buffers& in, device_buffers& b) {
    const long long n = static_cast<long long>(batch) * Out::size;
    if (!is_training(ph)) {
      ctx.copy(b.out, in.out, n);
      return;
    }
    const bool trace = Out::traced;
    launch_elementwise(ctx, n, mask_op{b.mask, in.out, b.out, trace ? in.out_trace : nullptr, trace ? b.out_trace : nullptr,
                                       plane<Out>});
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    if constexpr (GradToInput)
      launch_elementwise(ctx, static_cast<long long>(batch) * Out::size,
                         mask_op{b.mask, b.grad_out, in.grad_out, nullptr, nullptr, plane<Out>});
  }
};

template <auto P>
struct layer_impl<Dropout<P>> : dropout_layer_impl<Dropout<P>> {};
template <auto P>
struct layer_impl<Dropout2d<P>> : dropout_layer_impl<Dropout2d<P>> {};

/// Flatten aliases its input's buffers (the model binds them): nothing to launch either way.
template <>
struct layer_impl<Flatten> : stateless_layer {
  template <class In, class Out, class Fusion>
  static void forward(const context&, int, phase, const device_buffers&, device_buffers&) {}
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context&, int, device_buffers&, const device_buffers&) {}
};

}  // namespace spikefuse::cuda
