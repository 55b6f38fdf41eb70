// Pooling over k×k windows (stride s, padding p): AvgPool2d y = Σ_window x / |window incl. padding|, MaxPool2d y = max_window x,
// AdaptiveAvgPool2d<Hₒ,Wₒ> y[i] = mean of x over [⌊i·H/Hₒ⌋, ⌈(i+1)·H/Hₒ⌉); parameter-free, so on OTTT spikes each applies to spike and trace alike.
#pragma once

#include "spikefuse/config.hpp"
#include "spikefuse/core/port.hpp"

namespace spikefuse {

enum class pool_kind { average, max };

template <pool_kind Kind, int Kernel, int Stride, int Padding>
struct pool2d_spec {
  static_assert(Kernel > 0 && Stride > 0, "spikefuse: pooling needs a positive kernel size and stride");
  static_assert(Padding >= 0 && 2 * Padding <= Kernel,
                "spikefuse: pooling padding must be at most half the kernel size (as in PyTorch)");
  static constexpr pool_kind kind = Kind;
  static constexpr int kernel = Kernel;
  static constexpr int stride = Stride;
  static constexpr int padding = Padding;
  // Bad parameters are reported by the static_asserts above, alone (as for Conv2d).
  static constexpr bool valid_parameters = Kernel > 0 && Stride > 0 && Padding >= 0 && 2 * Padding <= Kernel;
  template <class In>
  static constexpr bool kernel_fits = !valid_parameters || window_fits(In::dims, Kernel, Stride, Padding);
  template <class In>
  static constexpr shape output_dims = valid_parameters ? window_output(In::dims, In::dims.c, Kernel, Stride, Padding) : In::dims;
  template <class In>
  using output = port<output_dims<In>, In::kind, In::traced>;
};

/// Average pooling; padded positions count in the divisor (PyTorch's count_include_pad = True).
template <int Kernel, int Stride = Kernel, int Padding = 0>
struct AvgPool2d : pool2d_spec<pool_kind::average, Kernel, Stride, Padding> {
  static constexpr const char* name = "AvgPool2d";
};

/// Max pooling; the gradient goes to the first maximum of each window in row-major order (PyTorch's
/// CPU rule). Under OTTT the trace is max-pooled separately, which is not the trace of the pooled spikes (spec §B.4).
template <int Kernel, int Stride = Kernel, int Padding = 0>
struct MaxPool2d : pool2d_spec<pool_kind::max, Kernel, Stride, Padding> {
  static constexpr const char* name = "MaxPool2d";
};

/// Average pooling to a fixed Hₒ×Wₒ grid, PyTorch's AdaptiveAvgPool2d.
template <int OutH = 1, int OutW = OutH>
struct AdaptiveAvgPool2d {
  static_assert(OutH > 0 && OutW > 0, "spikefuse: AdaptiveAvgPool2d needs a positive output size");
  static constexpr const char* name = "AdaptiveAvgPool2d";
  static constexpr int out_h = OutH;
  static constexpr int out_w = OutW;
  template <class In>
  using output = port<shape{In::dims.c, OutH, OutW}, In::kind, In::traced>;
};

template <class T>
inline constexpr bool is_pool = false;
template <int K, int S, int P>
inline constexpr bool is_pool<AvgPool2d<K, S, P>> = true;
template <int K, int S, int P>
inline constexpr bool is_pool<MaxPool2d<K, S, P>> = true;
template <int H, int W>
inline constexpr bool is_pool<AdaptiveAvgPool2d<H, W>> = true;

/// Max pooling's backward reads its input (which element was the maximum); average pooling's does not.
template <class T>
inline constexpr bool is_max_pool = false;
template <int K, int S, int P>
inline constexpr bool is_max_pool<MaxPool2d<K, S, P>> = true;

namespace pooling {

/// One window along one axis: input positions [begin, end) and the divisor share of this axis.
struct window {
  int begin, end, divisor;
};

/// Window of output position `o` for a k/s/p pooling over `in` positions. The divisor counts padding
/// but not positions past the padded end, as PyTorch's avg_pool2d does.
SF_HOST_DEVICE constexpr window fixed_window(int o, int in, int kernel, int stride, int padding) {
  int begin = o * stride - padding;
  int end = begin + kernel;
  if (end > in + padding) end = in + padding;
  const int divisor = end - begin;
  if (begin < 0) begin = 0;
  if (end > in) end = in;
  return {begin, end, divisor};
}

/// Window of output position `o` of an adaptive pooling from `in` to `out` positions.
SF_HOST_DEVICE constexpr window adaptive_window(int o, int in, int out) {
  const int begin = (o * in) / out;
  const int end = ((o + 1) * in + out - 1) / out;
  return {begin, end, end - begin};
}

/// Index (within a plane of `width` columns) of the first maximum of the window in row-major order;
/// a NaN wins at once, as in PyTorch's CPU kernel. Shared by the CPU loops and the CUDA kernels.
SF_HOST_DEVICE int window_argmax(const float* plane, int width, window r, window c) {
  int best = r.begin * width + c.begin;
  float best_value = plane[best];
  if (best_value != best_value) return best;
  for (int y = r.begin; y < r.end; ++y)
    for (int x = c.begin; x < c.end; ++x) {
      const float v = plane[y * width + x];
      if (v != v) return y * width + x;
      if (v > best_value) {
        best_value = v;
        best = y * width + x;
      }
    }
  return best;
}

/// Geometry of one pooling over planes: the windows along each axis.
template <class Pool, class In, class Out>
struct windows_of {
  SF_HOST_DEVICE static window rows(int oy) {
    if constexpr (requires { Pool::out_h; }) {
      return adaptive_window(oy, In::dims.h, Out::dims.h);
    } else {
      return fixed_window(oy, In::dims.h, Pool::kernel, Pool::stride, Pool::padding);
    }
  }
  SF_HOST_DEVICE static window cols(int ox) {
    if constexpr (requires { Pool::out_w; }) {
      return adaptive_window(ox, In::dims.w, Out::dims.w);
    } else {
      return fixed_window(ox, In::dims.w, Pool::kernel, Pool::stride, Pool::padding);
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
  SF_HOST_DEVICE static float average(float sum, window r, window c) {
    if constexpr (is_adaptive) {
      return sum / static_cast<float>(r.divisor) / static_cast<float>(c.divisor);
    } else {
      return sum / static_cast<float>(r.divisor * c.divisor);
    }
  }
};

}  // namespace pooling
}  // namespace spikefuse
