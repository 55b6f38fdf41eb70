// CPU pooling: y = mean or max of x over each window, plane by plane; the same op on the OTTT trace; ∂x = ∂y spread over the window (mean) or to its first maximum (max).
#pragma once

#include <limits>

#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/layer/pooling.hpp"

namespace spikefuse::cpu {

/// Geometry of one pooling over planes: the windows along each axis.
template <class Pool, class In, class Out>
struct pool_windows {
  static pooling::window rows(int oy) {
    if constexpr (requires { Pool::out_h; }) {
      return pooling::adaptive_window(oy, In::dims.h, Out::dims.h);
    } else {
      return pooling::fixed_window(oy, In::dims.h, Pool::kernel, Pool::stride, Pool::padding);
    }
  }
  static pooling::window cols(int ox) {
    if constexpr (requires { Pool::out_w; }) {
      return pooling::adaptive_window(ox, In::dims.w, Out::dims.w);
    } else {
      return pooling::fixed_window(ox, In::dims.w, Pool::kernel, Pool::stride, Pool::padding);
    }
  }
  static constexpr bool is_max = [] {
    if constexpr (requires { Pool::kind; }) {
      return Pool::kind == pool_kind::max;
    } else {
      return false;
    }
  }();
  static constexpr bool is_adaptive = requires { Pool::out_h; };
  /// PyTorch divides an adaptive window's sum by its height, then by its width; a fixed one by the product.
  static float average(float sum, pooling::window r, pooling::window c) {
    if constexpr (is_adaptive) {
      return sum / static_cast<float>(r.divisor) / static_cast<float>(c.divisor);
    } else {
      return sum / static_cast<float>(r.divisor * c.divisor);
    }
  }
};

/// Index (within the plane) of the first maximum of a window, in row-major order; NaN wins, as in PyTorch.
inline int window_argmax(const float* plane, int width, pooling::window r, pooling::window c) {
  int best = r.begin * width + c.begin;
  float best_value = -std::numeric_limits<float>::infinity();
  for (int y = r.begin; y < r.end; ++y)
    for (int x = c.begin; x < c.end; ++x) {
      const float v = plane[y * width + x];
      if (v > best_value || v != v) {
        best_value = v;
        best = y * width + x;
        if (v != v) return best;
      }
    }
  return best;
}

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
