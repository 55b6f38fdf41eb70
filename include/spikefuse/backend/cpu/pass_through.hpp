// CPU pass-through layers: y = c·x (Scale), y = m ⊙ x (Dropout, Dropout2d); the same op on spikes and trace, ∂x = c·∂y or m ⊙ ∂y.
#pragma once

#include <type_traits>

#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/layer/dropout.hpp"
#include "spikefuse/layer/flatten.hpp"
#include "spikefuse/layer/scale.hpp"

namespace spikefuse::cpu {

inline void scale(long long n, float factor, const float* __restrict in, float* __restrict out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i] * factor;
}

inline void multiply(long long n, const float* __restrict mask, const float* __restrict in, float* __restrict out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i] * mask[i];
}

inline void copy(long long n, const float* __restrict in, float* __restrict out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i];
}

template <auto Factor>
struct layer_impl<Scale<Factor>> : stateless_layer {
  static constexpr float factor = Scale<Factor>::factor;
  template <class In, class Out>
  static void forward(int batch, phase ph, const layer_buffers& in, layer_buffers& b) {
    const long long n = static_cast<long long>(batch) * Out::size;
    scale(n, factor, in.out, b.out);
    if (Out::traced && is_training(ph)) scale(n, factor, in.out_trace, b.out_trace);
  }
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    if constexpr (GradToInput) scale(static_cast<long long>(batch) * Out::size, factor, b.grad_out, in.grad_out);
  }
};

/// m ⊙ x with m per element (Dropout) or per (sample, channel) (Dropout2d, `plane` = H·W elements share one value).
inline void multiply_mask(long long n, long long plane, const float* __restrict mask, const float* __restrict in, float* __restrict out) {
  if (plane == 1) {
    multiply(n, mask, in, out);
    return;
  }
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i] * mask[i / plane];
}

/// One mask per sequence, drawn at reset in training phases: 0 with probability p, else 1/(1 − p).
template <class D>
struct dropout_layer_impl {
  template <class Out>
  static constexpr long long plane = D::per_channel ? Out::dims.h * Out::dims.w : 1;

  template <class In, class Out>
  static void reset(int batch, phase ph, layer_buffers& b, uniform01& uniform) {
    if (!is_training(ph)) return;
    const long long n = static_cast<long long>(batch) * Out::size / plane<Out>;
    const float kept_value = 1.f / (1.f - D::probability);
    for (long long i = 0; i < n; ++i) b.mask[i] = uniform() >= D::probability ? kept_value : 0.f;
  }
  template <class In, class Out>
  static void forward(int batch, phase ph, const layer_buffers& in, layer_buffers& b) {
    const long long n = static_cast<long long>(batch) * Out::size;
    if (!is_training(ph)) {
      copy(n, in.out, b.out);
      return;
    }
    multiply_mask(n, plane<Out>, b.mask, in.out, b.out);
    if (Out::traced) multiply_mask(n, plane<Out>, b.mask, in.out_trace, b.out_trace);
  }
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    if constexpr (GradToInput) multiply_mask(static_cast<long long>(batch) * Out::size, plane<Out>, b.mask, b.grad_out, in.grad_out);
  }
};

template <auto P>
struct layer_impl<Dropout<P>> : dropout_layer_impl<Dropout<P>> {};
template <auto P>
struct layer_impl<Dropout2d<P>> : dropout_layer_impl<Dropout2d<P>> {};

/// Flatten aliases its input's buffers (the model binds them): nothing to compute either way.
template <>
struct layer_impl<Flatten> : stateless_layer {
  template <class In, class Out>
  static void forward(int, phase, const layer_buffers&, layer_buffers&) {}
  template <class In, class Out, bool GradToInput>
  static void backward(int, layer_buffers&, const layer_buffers&) {}
};

}  // namespace spikefuse::cpu
