// CPU Conv2d / WSConv2d: z = W ⋆ x + b by im2col + GEMM over chunks of samples; backward dW += δ·cols(x̂)ᵀ, db += Σδ, dx = col2im(Wᵀ·δ).
//
// x̂ is the layer's kept input: the OTTT trace after an OTTT neuron (GradwithTrace, spec §B.7), the
// spikes under SLTT, the raw input for the first layer. Columns are rebuilt from x̂ in the backward
// instead of being kept from the forward: x̂ differs from the forward's x under OTTT, and the
// plan keeps one shared column buffer, not one per layer.
#pragma once

#include <array>

#include "spikefuse/backend/cpu/blas.hpp"
#include "spikefuse/backend/cpu/double_sums.hpp"
#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/backend/cpu/weight_standardization.hpp"
#include "spikefuse/layer/conv2d.hpp"
#include "spikefuse/layer/conv_geometry.hpp"

namespace spikefuse::cpu {

/// The output columns ox whose input column ox·s − p + j lies inside the plane, [first, last):
/// the loops below copy or add that span without a bounds test per element.
struct inside_span {
  int first, last;
};
constexpr inside_span columns_inside(const conv_geometry& g, int j) {
  const int low = g.padding - j;                 // ox·s ≥ p − j
  const int high = g.in_w + g.padding - j - 1;   // ox·s ≤ w + p − j − 1
  // A padding wider than the plane can put every output column of a kernel column outside it.
  int first = low <= 0 ? 0 : (low + g.stride - 1) / g.stride;
  if (first > g.out_w) first = g.out_w;
  int last = high < 0 ? 0 : high / g.stride + 1;
  if (last > g.out_w) last = g.out_w;
  return {first, last > first ? last : first};
}

namespace detail {

// Worth a parallel region only above this many elements. For im2col and col2im the test is over the
// whole chunk, not one sample: a small layer at a large batch (the CSNN's 32×14×14 input, 56K
// columns per sample) was lowered by one thread while the other waited.
constexpr long long parallel_elements = 65536;

/// One column row, row = (c·k + i)·k + j, of one sample x [C×H×W] into dst[pixel]; zero padding.
inline void lower_row(const conv_geometry& g, const float* __restrict x, int row, float* __restrict dst) {
  const int k = g.kernel, s = g.stride;
  const int c = row / (k * k), i = (row / k) % k, j = row % k;
  const float* plane = x + static_cast<long long>(c) * g.in_pixels();
  const inside_span span = columns_inside(g, j);
  const int shift = j - g.padding;  // ix = ox·s + shift
  for (int oy = 0; oy < g.out_h; ++oy) {
    const int iy = oy * s - g.padding + i;
    float* line = dst + oy * g.out_w;
    if (iy < 0 || iy >= g.in_h) {
      for (int ox = 0; ox < g.out_w; ++ox) line[ox] = 0.f;
      continue;
    }
    const float* src = plane + iy * g.in_w;
    for (int ox = 0; ox < span.first; ++ox) line[ox] = 0.f;
    if (s == 1) {
      for (int ox = span.first; ox < span.last; ++ox) line[ox] = src[ox + shift];
    } else {
      for (int ox = span.first; ox < span.last; ++ox) line[ox] = src[ox * s + shift];
    }
    for (int ox = span.last; ox < g.out_w; ++ox) line[ox] = 0.f;
  }
}

/// Channel c's plane of one sample += its k² column rows (col[row·ld + pixel]), in (i, j) order.
inline void fold_channel(const conv_geometry& g, const float* __restrict col, long long ld, int c, float* __restrict plane) {
  const int k = g.kernel, s = g.stride;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      const float* src = col + ((c * k + i) * k + j) * ld;
      const inside_span span = columns_inside(g, j);
      const int shift = j - g.padding;
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int iy = oy * s - g.padding + i;
        if (iy < 0 || iy >= g.in_h) continue;
        float* line = plane + iy * g.in_w;
        const float* from = src + oy * g.out_w;
        if (s == 1) {
          for (int ox = span.first; ox < span.last; ++ox) line[ox + shift] += from[ox];
        } else {
          for (int ox = span.first; ox < span.last; ++ox) line[ox * s + shift] += from[ox];
        }
      }
    }
}


template <bool Accumulate>
void fold_samples(const conv_geometry& g, int count, const float* __restrict col, long long ld, float* __restrict dx) {
  const long long in_size = static_cast<long long>(g.in_c) * g.in_pixels();
  const int pixels = g.out_pixels();
  // One thread per (sample, channel): the k² rows of a channel write the same plane.
#pragma omp parallel for collapse(2) schedule(static) if (static_cast<long long>(count) * g.column_rows() * pixels > parallel_elements)
  for (int s = 0; s < count; ++s)
    for (int c = 0; c < g.in_c; ++c) {
      float* plane = dx + s * in_size + static_cast<long long>(c) * g.in_pixels();
      if constexpr (!Accumulate)
        for (int p = 0; p < g.in_pixels(); ++p) plane[p] = 0.f;
      fold_channel(g, col + static_cast<long long>(s) * pixels, ld, c, plane);
    }
}

}  // namespace detail

/// Lowers `count` consecutive samples x [count×C×H×W] into columns col[row·ld + s·HₒWₒ + pixel],
/// row = (c·k + i)·k + j; zero padding.
inline void im2col(const conv_geometry& g, const float* __restrict x, float* __restrict col, long long ld, int count = 1) {
  const long long in_size = static_cast<long long>(g.in_c) * g.in_pixels();
  const int rows = g.column_rows(), pixels = g.out_pixels();
#pragma omp parallel for collapse(2) schedule(static) if (static_cast<long long>(count) * rows * pixels > detail::parallel_elements)
  for (int s = 0; s < count; ++s)
    for (int row = 0; row < rows; ++row)
      detail::lower_row(g, x + s * in_size, row, col + row * ld + static_cast<long long>(s) * pixels);
}

/// dx [count×C×H×W] += the columns folded back onto the pixels they were lowered from. Each pixel
/// adds its (i, j) entries in that order, whatever the spans: the sums are the same bit for bit.
inline void col2im_add(const conv_geometry& g, const float* __restrict col, long long ld, float* __restrict dx, int count = 1) {
  detail::fold_samples<true>(g, count, col, ld, dx);
}

/// dx [count×C×H×W] = the columns folded back (col2im_add onto zeros, each plane zeroed by the
/// thread that folds it).
inline void col2im(const conv_geometry& g, const float* __restrict col, long long ld, float* __restrict dx, int count = 1) {
  detail::fold_samples<false>(g, count, col, ld, dx);
}

/// out [B×Cₒ×Hₒ×Wₒ] = weight ⋆ in + bias; `scratch` holds scratch_floats(batch) floats.
inline void conv2d_forward(const conv_geometry& g, int batch, const float* in, const float* weight, const float* bias,
                           float* out, float* scratch) {
  const int chunk = g.samples_per_chunk(batch);
  const int pixels = g.out_pixels(), rows = g.column_rows();
  float* col = scratch;
  float* product = scratch + static_cast<long long>(rows) * chunk * pixels;
  g.for_each_chunk(batch, [&](int first, int count, long long ld) {
    im2col(g, in + static_cast<long long>(first) * g.in_c * g.in_pixels(), col, ld, count);
    gemm(transpose::no, transpose::no, g.out_c, static_cast<int>(ld), rows, 1.f, weight, rows, col, static_cast<int>(ld), 0.f,
         product, static_cast<int>(ld));
    // Bias after the sum, as PyTorch adds it: the same rounding.
#pragma omp parallel for collapse(2) schedule(static) if (ld * g.out_c > detail::parallel_elements)
    for (int s = 0; s < count; ++s)
      for (int o = 0; o < g.out_c; ++o) {
        const float* src = product + o * ld + static_cast<long long>(s) * pixels;
        float* dst = out + (static_cast<long long>(first + s) * g.out_c + o) * pixels;
        const float b = bias ? bias[o] : 0.f;
        for (int p = 0; p < pixels; ++p) dst[p] = bias ? src[p] + b : src[p];
      }
  });
}

/// dW += δ·cols(kept)ᵀ and db += Σ δ (parameter gradients ACCUMULATE); grad_in (if not null) = col2im(Wᵀ·δ), overwritten.
inline void conv2d_backward(const conv_geometry& g, int batch, const float* kept_input, const float* grad_out,
                            const float* weight, float* grad_weight, float* grad_bias, float* grad_in, float* scratch) {
  const int chunk = g.samples_per_chunk(batch);
  const int pixels = g.out_pixels(), rows = g.column_rows();
  const long long in_size = static_cast<long long>(g.in_c) * g.in_pixels();
  float* col = scratch;
  float* gathered = scratch + static_cast<long long>(rows) * chunk * pixels;
  g.for_each_chunk(batch, [&](int first, int count, long long ld) {
#pragma omp parallel for collapse(2) schedule(static) if (ld * g.out_c > detail::parallel_elements)
    for (int s = 0; s < count; ++s)
      for (int o = 0; o < g.out_c; ++o) {
        const float* src = grad_out + (static_cast<long long>(first + s) * g.out_c + o) * pixels;
        float* dst = gathered + o * ld + static_cast<long long>(s) * pixels;
        for (int p = 0; p < pixels; ++p) dst[p] = src[p];
      }
    im2col(g, kept_input + first * in_size, col, ld, count);
    gemm(transpose::no, transpose::yes, g.out_c, rows, static_cast<int>(ld), 1.f, gathered, static_cast<int>(ld), col,
         static_cast<int>(ld), 1.f, grad_weight, rows);
    if (grad_in) {
      gemm(transpose::yes, transpose::no, rows, static_cast<int>(ld), g.out_c, 1.f, weight, rows, gathered,
           static_cast<int>(ld), 0.f, col, static_cast<int>(ld));
      col2im(g, col, ld, grad_in + first * in_size, count);
    }
  });
  if (grad_bias) {
    // This step's sum over the batch first (in double), then added: autograd's rounding.
#pragma omp parallel for schedule(static) if (static_cast<long long>(batch) * g.out_c * pixels > detail::parallel_elements)
    for (int o = 0; o < g.out_c; ++o) {
      double_sums<1> step_sum;
      for (int b = 0; b < batch; ++b) {
        const float* src = grad_out + (static_cast<long long>(b) * g.out_c + o) * pixels;
        step_sum.add(pixels, [src](long long p) { return std::array<double, 1>{src[p]}; });
      }
      grad_bias[o] += static_cast<float>(step_sum.totals()[0]);
    }
  }
}

template <class Conv>
struct conv2d_layer_impl : stateless_layer {
  template <class In, class Out>
  static void forward(int batch, phase, const layer_buffers& in, layer_buffers& b) {
    constexpr conv_geometry g = conv_geometry_of<Conv, In, Out>();
    const float* weight = b.weight;
    if constexpr (Conv::standardized) {
      standardize_weights(g.out_c, g.column_rows(), b.weight, b.gain, b.weight_hat);
      weight = b.weight_hat;
    }
    conv2d_forward(g, batch, in.out, weight, b.bias, b.out, b.scratch);
  }
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    constexpr conv_geometry g = conv_geometry_of<Conv, In, Out>();
    // GradwithTrace (spec §B.3): after an OTTT neuron the weight gradient reads the trace.
    const float* kept = In::traced ? in.out_trace : in.out;
    float* grad_in = GradToInput ? in.grad_out : nullptr;
    if constexpr (Conv::standardized) {
      const long long n = static_cast<long long>(g.out_c) * g.column_rows();
      float* grad_weight_hat = b.grad_weight_hat;
      for (long long i = 0; i < n; ++i) grad_weight_hat[i] = 0.f;
      conv2d_backward(g, batch, kept, b.grad_out, b.weight_hat, grad_weight_hat, b.grad_bias, grad_in, b.scratch);
      standardize_weights_backward(g.out_c, g.column_rows(), b.weight, b.gain, grad_weight_hat, b.grad_weight, b.grad_gain);
    } else {
      conv2d_backward(g, batch, kept, b.grad_out, b.weight, b.grad_weight, b.grad_bias, grad_in, b.scratch);
    }
  }
};

template <int O, int K, conv_opts P>
struct layer_impl<Conv2d<O, K, P>> : conv2d_layer_impl<Conv2d<O, K, P>> {};
template <int O, int K, conv_opts P>
struct layer_impl<WSConv2d<O, K, P>> : conv2d_layer_impl<WSConv2d<O, K, P>> {};

}  // namespace spikefuse::cpu
