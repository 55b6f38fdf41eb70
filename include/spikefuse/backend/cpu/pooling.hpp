// CPU pooling: y = mean or max of x over each window, plane by plane; the same op on the OTTT trace; ∂x = ∂y spread over the window (mean) or to its first maximum (max).
#pragma once

#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/layer/pooling.hpp"

namespace spikefuse::cpu {

using pooling::window_argmax;
template <class Pool, class In, class Out>
using pool_windows = pooling::windows_of<Pool, In, Out>;

template <class Pool, class In, class Out>
void pool_forward(long long planes, const float* __restrict in, float* __restrict out) {
  using W = pool_windows<Pool, In, Out>;
  constexpr int in_plane = In::dims.h * In::dims.w, out_plane = Out::dims.h * Out::dims.w;
#pragma omp parallel for schedule(static) if (planes * in_plane > 65536)
  for (long long p = 0; p < planes; ++p) {
    const float* src = in + p * in_plane;
    float* dst = out + p * out_plane;
    for (int oy = 0; oy < Out::dims.h; ++oy) {
      const auto r = W::rows(oy);
      for (int ox = 0; ox < Out::dims.w; ++ox) {
        const auto c = W::cols(ox);
        if constexpr (W::is_max) {
          dst[oy * Out::dims.w + ox] = src[window_argmax(src, In::dims.w, r, c)];
        } else {
          float sum = 0.f;
          for (int y = r.begin; y < r.end; ++y)
            for (int x = c.begin; x < c.end; ++x) sum += src[y * In::dims.w + x];
          dst[oy * Out::dims.w + ox] = W::average(sum, r, c);
        }
      }
    }
  }
}

/// grad_in = ∂y spread back over the windows (overwritten). Max pooling finds each window's maximum
/// again in `in` (this step's input, still in place) instead of keeping indices.
template <class Pool, class In, class Out>
void pool_backward(long long planes, const float* __restrict in, const float* __restrict grad_out, float* __restrict grad_in) {
  using W = pool_windows<Pool, In, Out>;
  constexpr int in_plane = In::dims.h * In::dims.w, out_plane = Out::dims.h * Out::dims.w;
#pragma omp parallel for schedule(static) if (planes * in_plane > 65536)
  for (long long p = 0; p < planes; ++p) {
    const float* src = in + p * in_plane;
    const float* g = grad_out + p * out_plane;
    float* dst = grad_in + p * in_plane;
    for (int i = 0; i < in_plane; ++i) dst[i] = 0.f;
    for (int oy = 0; oy < Out::dims.h; ++oy) {
      const auto r = W::rows(oy);
      for (int ox = 0; ox < Out::dims.w; ++ox) {
        const auto c = W::cols(ox);
        const float go = g[oy * Out::dims.w + ox];
        if constexpr (W::is_max) {
          dst[window_argmax(src, In::dims.w, r, c)] += go;
        } else {
          const float share = W::average(go, r, c);
          for (int y = r.begin; y < r.end; ++y)
            for (int x = c.begin; x < c.end; ++x) dst[y * In::dims.w + x] += share;
        }
      }
    }
  }
}

template <class Pool>
struct pool_layer_impl : stateless_layer {
  template <class In, class Out>
  static void forward(int batch, phase ph, const layer_buffers& in, layer_buffers& b) {
    const long long planes = static_cast<long long>(batch) * In::dims.c;
    pool_forward<Pool, In, Out>(planes, in.out, b.out);
    if (Out::traced && is_training(ph)) pool_forward<Pool, In, Out>(planes, in.out_trace, b.out_trace);
  }
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    if constexpr (GradToInput)
      pool_backward<Pool, In, Out>(static_cast<long long>(batch) * In::dims.c, in.out, b.grad_out, in.grad_out);
  }
};

template <int K, int S, int P>
struct layer_impl<AvgPool2d<K, S, P>> : pool_layer_impl<AvgPool2d<K, S, P>> {};
template <int K, int S, int P>
struct layer_impl<MaxPool2d<K, S, P>> : pool_layer_impl<MaxPool2d<K, S, P>> {};
template <int H, int W>
struct layer_impl<AdaptiveAvgPool2d<H, W>> : pool_layer_impl<AdaptiveAvgPool2d<H, W>> {};

}  // namespace spikefuse::cpu
