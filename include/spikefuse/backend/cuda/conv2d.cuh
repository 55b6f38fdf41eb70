// CUDA Conv2d / WSConv2d: z = W ⋆ x + b by an im2col kernel + cuBLAS over chunks of samples; backward dW += δ·cols(x̂)ᵀ (β = 1), db += Σδ, dx = col2im(Wᵀ·δ).
//
// Or, with model_options::convolutions = cudnn, the same three products through cuDNN (cudnn_conv.cuh).
//
// The same lowering, chunking and GEMMs as the CPU backend (backend/cpu/conv2d.hpp), so both give
// the same numbers up to the GEMMs' summation order. col2im gathers instead of scattering: each
// input pixel sums the columns that read it, so no atomics and a fixed order. The standardised
// weight Ŵ is recomputed before every forward (one block per output row, the shared ws:: math).
#pragma once

#include <stdexcept>

#include "spikefuse/backend/cuda/cudnn_conv.cuh"
#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/reduce.cuh"
#include "spikefuse/backend/cuda/weight_standardization.cuh"
#include "spikefuse/layer/conv2d.hpp"
#include "spikefuse/layer/conv_geometry.hpp"

namespace spikefuse::cuda {

// The index kernels take the geometry as a template argument, so every divisor but the chunk's
// column count `ld` is a constant the compiler turns into multiplies and shifts, and they index a
// chunk in 32 bits (a chunk's columns are at most the conv_geometry budget; conv2d_forward checks):
// with run-time 64-bit divisions they ran at about 12 % of copy bandwidth on an H200. They are
// host-callable too, so tests/cuda/test_conv_index_kernels.cu checks them against the CPU lowering
// without a GPU.

/// col[row·ld + s·HₒWₒ + p] for the `count` samples from `first`: one thread per column entry.
template <conv_geometry G>
struct im2col_op {
  const float* x;  // the whole batch [B×C×H×W]
  float* col;
  int first;
  int ld;  // count·HₒWₒ
  float factor = 1.f;  // columns of factor·x: a trace kept as the neuron's state, read through its Scale
  SF_HOST_DEVICE void operator()(long long index) const {
    const int i = static_cast<int>(index);
    const int row = i / ld;
    const int column = i - row * ld;
    const int s = column / G.out_pixels();
    const int p = column - s * G.out_pixels();
    const int c = row / (G.kernel * G.kernel), ki = (row / G.kernel) % G.kernel, kj = row % G.kernel;
    const int iy = (p / G.out_w) * G.stride - G.padding + ki, ix = (p % G.out_w) * G.stride - G.padding + kj;
    const bool inside = iy >= 0 && iy < G.in_h && ix >= 0 && ix < G.in_w;
    col[i] = inside ? x[((static_cast<long long>(first + s) * G.in_c + c) * G.in_h + iy) * G.in_w + ix] * factor : 0.f;
  }
};

/// dx[(first+s), c, y, x] = Σ of the column entries lowered from that pixel (overwrites dx).
template <conv_geometry G>
struct col2im_op {
  const float* col;
  float* dx;
  int first;
  int ld;
  SF_HOST_DEVICE void operator()(long long index) const {
    constexpr int per_sample = G.in_c * G.in_pixels();
    const int i = static_cast<int>(index);
    const int s = i / per_sample;
    const int within = i - s * per_sample;
    const int c = within / G.in_pixels();
    const int pixel = within - c * G.in_pixels();
    const int y = pixel / G.in_w, x = pixel - y * G.in_w;
    float sum = 0.f;
    for (int ki = 0; ki < G.kernel; ++ki) {
      const int ty = y + G.padding - ki;  // = oy·stride
      if (ty < 0 || ty % G.stride != 0 || ty / G.stride >= G.out_h) continue;
      for (int kj = 0; kj < G.kernel; ++kj) {
        const int tx = x + G.padding - kj;
        if (tx < 0 || tx % G.stride != 0 || tx / G.stride >= G.out_w) continue;
        const int row = (c * G.kernel + ki) * G.kernel + kj;
        sum += col[row * ld + s * G.out_pixels() + (ty / G.stride) * G.out_w + tx / G.stride];
      }
    }
    dx[static_cast<long long>(first) * per_sample + i] = sum;
  }
};

/// Element i of a chunk's NCHW slice [count × Cₒ × HₒWₒ] and its place in the GEMM layout [Cₒ × count·HₒWₒ].
template <conv_geometry G>
struct chunk_position {
  static constexpr int per_sample = G.out_c * G.out_pixels();  // Cₒ·HₒWₒ
  int channel;
  int column;  // o·ld + s·HₒWₒ + p
  SF_HOST_DEVICE static chunk_position of(int i, int ld) {
    const int s = i / per_sample;
    const int within = i - s * per_sample;
    const int o = within / G.out_pixels();
    return {o, o * ld + s * G.out_pixels() + (within - o * G.out_pixels())};
  }
  /// Offset of the chunk's first sample in the whole batch.
  SF_HOST_DEVICE static long long first_sample_offset(int first) { return static_cast<long long>(first) * per_sample; }
};

/// out[(first+s), o, p] = product[o·ld + s·HₒWₒ + p] (+ bias[o]): the GEMM's [Cₒ × count·HₒWₒ] back to NCHW.
template <conv_geometry G>
struct scatter_bias_op {
  const float* product;
  const float* bias;
  float* out;
  int first, ld;
  SF_HOST_DEVICE void operator()(long long index) const {
    const int i = static_cast<int>(index);
    const auto at = chunk_position<G>::of(i, ld);
    const float v = product[at.column];
    out[chunk_position<G>::first_sample_offset(first) + i] = bias ? v + bias[at.channel] : v;
  }
};

/// gathered[o·ld + s·HₒWₒ + p] = grad_out[(first+s), o, p].
template <conv_geometry G>
struct gather_op {
  const float* grad_out;
  float* gathered;
  int first, ld;
  SF_HOST_DEVICE void operator()(long long index) const {
    const int i = static_cast<int>(index);
    gathered[chunk_position<G>::of(i, ld).column] = grad_out[chunk_position<G>::first_sample_offset(first) + i];
  }
};

/// grad_bias[o] += Σ_{b,p} grad_out[b, o, p] for channel o = blockIdx.y: each block sums its range in
/// double, the channel's last block adds the partials in range order (reduce.cuh's channel_split).
template <int Channels, int Pixels>
__global__ void __launch_bounds__(reduce_threads)
    channel_sum_kernel(const float* grad_out, float* grad_bias, int batch, channel_split split, channel_workspace workspace) {
  __shared__ double shared[reduce_threads];
  double sum[1] = {0.0};
  for_each_in_range<Channels, Pixels>(split, batch, [&](long long at) { sum[0] += grad_out[at]; });
  if (channel_reduce(sum, workspace, shared) && threadIdx.x == 0)
    grad_bias[blockIdx.y] += static_cast<float>(sum[0]);  // parameter gradients ACCUMULATE
}

/// A chunk's columns and its NCHW slices are indexed in 32 bits by the kernels above: checked for
/// the largest chunk of any batch up to `batch` (what the plan's scratch holds), so a model planned
/// for `batch` passes at every smaller one.
template <conv_geometry G>
void check_chunk_indexing(int batch, long long chunk_floats) {
  const long long chunk = G.largest_chunk(batch, chunk_floats);
  const long long pixels = G.out_pixels();
  if (static_cast<long long>(G.column_rows() + G.out_c) * chunk * pixels >= (1LL << 31) ||
      chunk * G.in_c * G.in_pixels() >= (1LL << 31))
    throw std::length_error("spikefuse: a convolution's im2col chunk has 2^31 or more elements; use a smaller "
                            "model_options::im2col_chunk_mib, or model_options::convolutions = cudnn when one sample's "
                            "columns alone are that large");
}

/// db += Σ_{b,p} ∂out[b, o, p] (ACCUMULATES): the same kernel for both convolution paths.
template <conv_geometry G>
void conv2d_bias_gradient(const context& ctx, int batch, const float* grad_out, float* grad_bias) {
  check_channel_count(batch, G.out_pixels());
  const channel_split split = split_channel(static_cast<long long>(batch) * G.out_pixels(), G.out_c);
  channel_sum_kernel<G.out_c, G.out_pixels()><<<channel_grid<G.out_c>(split, ctx.reduction), reduce_threads, 0, ctx.stream>>>(
      grad_out, grad_bias, batch, split, ctx.reduction);
  ctx.kernel_launched();
}

template <conv_geometry G>
void conv2d_forward(const context& ctx, int batch, const float* in, const float* weight, const float* bias, float* out,
                    float* scratch) {
  check_chunk_indexing<G>(batch, ctx.im2col_chunk_floats);
  const int chunk = G.samples_per_chunk(batch, ctx.im2col_chunk_floats);
  constexpr int pixels = G.out_pixels(), rows = G.column_rows();
  float* col = scratch;
  float* product = scratch + static_cast<long long>(rows) * chunk * pixels;
  G.for_each_chunk(batch, [&](int first, int /*count*/, long long ld) {
    const int n = static_cast<int>(ld);
    launch_elementwise(ctx, rows * ld, im2col_op<G>{in, col, first, n});
    ctx.gemm(false, false, G.out_c, n, rows, 1.f, weight, rows, col, n, 0.f, product, n);
    launch_elementwise(ctx, G.out_c * ld, scatter_bias_op<G>{product, bias, out, first, n});
  }, ctx.im2col_chunk_floats);
}

/// dW += δ·cols(c·kept)ᵀ, db += Σδ (parameter gradients ACCUMULATE); grad_in (if not null) overwritten.
/// c = kept_factor (1 but for a trace read through a fused Scale; the columns hold c·kept, rounded
/// as the Scale would).
template <conv_geometry G>
void conv2d_backward(const context& ctx, int batch, const float* kept, float kept_factor, const float* grad_out,
                     const float* weight, float* grad_weight, float* grad_bias, float* grad_in, float* scratch) {
  check_chunk_indexing<G>(batch, ctx.im2col_chunk_floats);
  const int chunk = G.samples_per_chunk(batch, ctx.im2col_chunk_floats);
  constexpr int pixels = G.out_pixels(), rows = G.column_rows();
  float* col = scratch;
  float* gathered = scratch + static_cast<long long>(rows) * chunk * pixels;
  G.for_each_chunk(batch, [&](int first, int count, long long ld) {
    const int n = static_cast<int>(ld);
    launch_elementwise(ctx, G.out_c * ld, gather_op<G>{grad_out, gathered, first, n});
    launch_elementwise(ctx, rows * ld, im2col_op<G>{kept, col, first, n, kept_factor});
    ctx.gemm(false, true, G.out_c, rows, n, 1.f, gathered, n, col, n, 1.f, grad_weight, rows);
    if (grad_in) {
      ctx.gemm(true, false, rows, n, G.out_c, 1.f, weight, rows, gathered, n, 0.f, col, n);
      launch_elementwise(ctx, static_cast<long long>(count) * G.in_c * G.in_pixels(), col2im_op<G>{col, grad_in, first, n});
    }
  }, ctx.im2col_chunk_floats);
  if (grad_bias) conv2d_bias_gradient<G>(ctx, batch, grad_out, grad_bias);
}

/// The same two functions through cuDNN (model_options::convolutions = cudnn): no columns, NCHW in and out.
inline void conv2d_forward_cudnn(const context& ctx, const conv_geometry& g, int batch, const float* in, const float* weight,
                                 const float* bias, float* out) {
  ctx.cudnn->forward(g, batch, in, weight, bias, out);
  ctx.kernel_launched();  // counted per cuDNN call (it may run more than one kernel)
  if (bias) ctx.kernel_launched();
}

template <conv_geometry G>
void conv2d_backward_cudnn(const context& ctx, int batch, const float* kept, float kept_factor, const float* grad_out,
                           const float* weight, float* grad_weight, float* grad_bias, float* grad_in) {
  ctx.cudnn->backward(G, batch, kept, kept_factor, grad_out, weight, grad_weight, grad_in);
  ctx.kernel_launched();
  if (grad_in) ctx.kernel_launched();
  if (grad_bias) conv2d_bias_gradient<G>(ctx, batch, grad_out, grad_bias);
}

template <class Conv>
struct conv2d_layer_impl : stateless_layer {
  /// At the start of a sequence, outside any graph capture: cuDNN's descriptors and algorithm choice
  /// for this batch are made here, so that a captured step only looks them up.
  template <class In, class Out, class Fusion>
  static void reset(const context& ctx, int batch, phase, device_buffers&, uniform01&) {
    if (ctx.cudnn) ctx.cudnn->prepare(conv_geometry_of<Conv, In, Out>(), batch);
  }
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase, const device_buffers& in, device_buffers& b) {
    constexpr conv_geometry g = conv_geometry_of<Conv, In, Out>();
    const float* weight = b.weight;
    if constexpr (Conv::standardized) {
      standardize(ctx, g.out_c, g.column_rows(), b.weight, b.gain, b.weight_hat);
      weight = b.weight_hat;
    }
    if (ctx.cudnn) {
      conv2d_forward_cudnn(ctx, g, batch, in.out, weight, b.bias, b.out);
    } else {
      conv2d_forward<g>(ctx, batch, in.out, weight, b.bias, b.out, b.scratch);
    }
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    constexpr conv_geometry g = conv_geometry_of<Conv, In, Out>();
    // GradwithTrace (spec §B.3): after an OTTT neuron the weight gradient reads the trace.
    const float* kept = In::traced ? in.out_trace : in.out;
    const float kept_factor = In::traced ? in.out_trace_factor : 1.f;
    float* grad_in = GradToInput ? in.grad_out : nullptr;
    if constexpr (Conv::standardized) {
      const long long n = static_cast<long long>(g.out_c) * g.column_rows();
      float* grad_weight_hat = b.grad_weight_hat;
      ctx.zero(grad_weight_hat, n);
      backward_through<g>(ctx, batch, kept, kept_factor, b.grad_out, b.weight_hat, grad_weight_hat, b.grad_bias, grad_in, b.scratch);
      standardize_backward(ctx, g.out_c, g.column_rows(), b.weight, b.gain, grad_weight_hat, b.grad_weight, b.grad_gain);
    } else {
      backward_through<g>(ctx, batch, kept, kept_factor, b.grad_out, b.weight, b.grad_weight, b.grad_bias, grad_in, b.scratch);
    }
  }

 private:
  template <conv_geometry G>
  static void backward_through(const context& ctx, int batch, const float* kept, float kept_factor, const float* grad_out,
                               const float* weight, float* grad_weight, float* grad_bias, float* grad_in, float* scratch) {
    if (ctx.cudnn) {
      conv2d_backward_cudnn<G>(ctx, batch, kept, kept_factor, grad_out, weight, grad_weight, grad_bias, grad_in);
    } else {
      conv2d_backward<G>(ctx, batch, kept, kept_factor, grad_out, weight, grad_weight, grad_bias, grad_in, scratch);
    }
  }
};

template <int O, int K, conv_opts P>
struct layer_impl<Conv2d<O, K, P>> : conv2d_layer_impl<Conv2d<O, K, P>> {};
template <int O, int K, conv_opts P>
struct layer_impl<WSConv2d<O, K, P>> : conv2d_layer_impl<WSConv2d<O, K, P>> {};

}  // namespace spikefuse::cuda
