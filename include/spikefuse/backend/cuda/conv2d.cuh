// CUDA Conv2d / WSConv2d: z = W ⋆ x + b by an im2col kernel + cuBLAS over chunks of samples; backward dW += δ·cols(x̂)ᵀ (β = 1), db += Σδ, dx = col2im(Wᵀ·δ).
//
// Or, with model_options::convolutions = cudnn, the same three products through cuDNN (cudnn_conv.cuh).
//
// The same lowering, chunking and GEMMs as the CPU backend (backend/cpu/conv2d.hpp), so both give
// the same numbers up to the GEMMs' summation order. col2im gathers instead of scattering: each
// input pixel sums the columns that read it, so no atomics and a fixed order. The standardised
// weight Ŵ is recomputed before every forward (one block per output row, the shared ws:: math).
#pragma once

#include "spikefuse/backend/cuda/cudnn_conv.cuh"
#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/reduce.cuh"
#include "spikefuse/backend/cuda/weight_standardization.cuh"
#include "spikefuse/layer/conv2d.hpp"
#include "spikefuse/layer/conv_geometry.hpp"

namespace spikefuse::cuda {

/// col[row·ld + s·HₒWₒ + p] for the `count` samples from `first`: one thread per column entry.
struct im2col_op {
  conv_geometry g;
  const float* x;  // the whole batch [B×C×H×W]
  float* col;
  int first;
  long long ld;  // count·HₒWₒ
  __device__ void operator()(long long i) const {
    const int row = static_cast<int>(i / ld);
    const long long column = i % ld;
    const int s = static_cast<int>(column / g.out_pixels());
    const int p = static_cast<int>(column % g.out_pixels());
    const int c = row / (g.kernel * g.kernel), ki = (row / g.kernel) % g.kernel, kj = row % g.kernel;
    const int iy = (p / g.out_w) * g.stride - g.padding + ki, ix = (p % g.out_w) * g.stride - g.padding + kj;
    const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
    col[i] = inside ? x[((static_cast<long long>(first + s) * g.in_c + c) * g.in_h + iy) * g.in_w + ix] : 0.f;
  }
};

/// dx[(first+s), c, y, x] = Σ of the column entries lowered from that pixel (overwrites dx).
struct col2im_op {
  conv_geometry g;
  const float* col;
  float* dx;
  int first;
  long long ld;
  __device__ void operator()(long long i) const {
    const long long per_sample = static_cast<long long>(g.in_c) * g.in_pixels();
    const int s = static_cast<int>(i / per_sample);
    const int c = static_cast<int>((i % per_sample) / g.in_pixels());
    const int y = static_cast<int>((i % g.in_pixels()) / g.in_w), x = static_cast<int>(i % g.in_w);
    float sum = 0.f;
    for (int ki = 0; ki < g.kernel; ++ki) {
      const int ty = y + g.padding - ki;  // = oy·stride
      if (ty < 0 || ty % g.stride != 0 || ty / g.stride >= g.out_h) continue;
      for (int kj = 0; kj < g.kernel; ++kj) {
        const int tx = x + g.padding - kj;
        if (tx < 0 || tx % g.stride != 0 || tx / g.stride >= g.out_w) continue;
        const int row = (c * g.kernel + ki) * g.kernel + kj;
        sum += col[row * ld + static_cast<long long>(s) * g.out_pixels() + (ty / g.stride) * g.out_w + tx / g.stride];
      }
    }
    dx[static_cast<long long>(first) * per_sample + i] = sum;
  }
};

/// Element i of a chunk's NCHW slice [count × Cₒ × HₒWₒ] and its place in the GEMM layout [Cₒ × count·HₒWₒ].
struct chunk_position {
  int channel;
  long long column;      // o·ld + s·HₒWₒ + p
  long long per_sample;  // Cₒ·HₒWₒ
  __device__ static chunk_position of(long long i, int out_c, int pixels, long long ld) {
    const long long per_sample = static_cast<long long>(out_c) * pixels;
    const long long s = i / per_sample;
    const int o = static_cast<int>((i % per_sample) / pixels);
    return {o, o * ld + s * pixels + i % pixels, per_sample};
  }
  /// Offset of the chunk's first sample in the whole batch.
  __device__ long long first_sample_offset(int first) const { return static_cast<long long>(first) * per_sample; }
};

/// out[(first+s), o, p] = product[o·ld + s·HₒWₒ + p] (+ bias[o]): the GEMM's [Cₒ × count·HₒWₒ] back to NCHW.
struct scatter_bias_op {
  const float* product;
  const float* bias;
  float* out;
  int out_c, pixels, first;
  long long ld;
  __device__ void operator()(long long i) const {
    const chunk_position at = chunk_position::of(i, out_c, pixels, ld);
    const float v = product[at.column];
    out[at.first_sample_offset(first) + i] = bias ? v + bias[at.channel] : v;
  }
};

/// gathered[o·ld + s·HₒWₒ + p] = grad_out[(first+s), o, p].
struct gather_op {
  const float* grad_out;
  float* gathered;
  int out_c, pixels, first;
  long long ld;
  __device__ void operator()(long long i) const {
    const chunk_position at = chunk_position::of(i, out_c, pixels, ld);
    gathered[at.column] = grad_out[at.first_sample_offset(first) + i];
  }
};

/// grad_bias[o] += Σ_{b,p} grad_out[b, o, p]: one block per channel, summed in double in a fixed order.
__global__ void __launch_bounds__(reduce_threads)
    channel_sum_kernel(const float* grad_out, float* grad_bias, int batch, int channels, long long pixels) {
  __shared__ double shared[reduce_threads];
  const int o = blockIdx.x;
  const long long count = batch * pixels;
  double sum = 0.0;
  for (long long j = threadIdx.x; j < count; j += reduce_threads)
    sum += grad_out[((j / pixels) * channels + o) * pixels + j % pixels];
  sum = block_sum(sum, shared);
  if (threadIdx.x == 0) grad_bias[o] += static_cast<float>(sum);
}

inline void conv2d_forward(const context& ctx, const conv_geometry& g, int batch, const float* in, const float* weight,
                           const float* bias, float* out, float* scratch) {
  const int chunk = g.samples_per_chunk(batch);
  const int pixels = g.out_pixels(), rows = g.column_rows();
  float* col = scratch;
  float* product = scratch + static_cast<long long>(rows) * chunk * pixels;
  g.for_each_chunk(batch, [&](int first, int /*count*/, long long ld) {
    launch_elementwise(ctx, rows * ld, im2col_op{g, in, col, first, ld});
    ctx.gemm(false, false, g.out_c, static_cast<int>(ld), rows, 1.f, weight, rows, col, static_cast<int>(ld), 0.f, product,
             static_cast<int>(ld));
    launch_elementwise(ctx, g.out_c * ld, scatter_bias_op{product, bias, out, g.out_c, pixels, first, ld});
  });
}

/// dW += δ·cols(kept)ᵀ, db += Σδ (parameter gradients ACCUMULATE); grad_in (if not null) overwritten.
inline void conv2d_backward(const context& ctx, const conv_geometry& g, int batch, const float* kept, const float* grad_out,
                            const float* weight, float* grad_weight, float* grad_bias, float* grad_in, float* scratch) {
  const int chunk = g.samples_per_chunk(batch);
  const int pixels = g.out_pixels(), rows = g.column_rows();
  float* col = scratch;
  float* gathered = scratch + static_cast<long long>(rows) * chunk * pixels;
  g.for_each_chunk(batch, [&](int first, int count, long long ld) {
    launch_elementwise(ctx, g.out_c * ld, gather_op{grad_out, gathered, g.out_c, pixels, first, ld});
    launch_elementwise(ctx, rows * ld, im2col_op{g, kept, col, first, ld});
    ctx.gemm(false, true, g.out_c, rows, static_cast<int>(ld), 1.f, gathered, static_cast<int>(ld), col, static_cast<int>(ld),
             1.f, grad_weight, rows);
    if (grad_in) {
      ctx.gemm(true, false, rows, static_cast<int>(ld), g.out_c, 1.f, weight, rows, gathered, static_cast<int>(ld), 0.f, col,
               static_cast<int>(ld));
      launch_elementwise(ctx, static_cast<long long>(count) * g.in_c * g.in_pixels(), col2im_op{g, col, grad_in, first, ld});
    }
  });
  if (grad_bias) {
    channel_sum_kernel<<<g.out_c, reduce_threads, 0, ctx.stream>>>(grad_out, grad_bias, batch, g.out_c, pixels);
    ctx.kernel_launched();
  }
}

/// The same two functions through cuDNN (model_options::convolutions = cudnn): no columns, NCHW in and out.
inline void conv2d_forward_cudnn(const context& ctx, const conv_geometry& g, int batch, const float* in, const float* weight,
                                 const float* bias, float* out) {
  ctx.cudnn->forward(g, batch, in, weight, bias, out);
  ctx.kernel_launched();  // counted per cuDNN call (it may run more than one kernel)
  if (bias) ctx.kernel_launched();
}

inline void conv2d_backward_cudnn(const context& ctx, const conv_geometry& g, int batch, const float* kept,
                                  const float* grad_out, const float* weight, float* grad_weight, float* grad_bias,
                                  float* grad_in) {
  ctx.cudnn->backward(g, batch, kept, grad_out, weight, grad_weight, grad_in);
  ctx.kernel_launched();
  if (grad_in) ctx.kernel_launched();
  if (grad_bias) {
    channel_sum_kernel<<<g.out_c, reduce_threads, 0, ctx.stream>>>(grad_out, grad_bias, batch, g.out_c, g.out_pixels());
    ctx.kernel_launched();
  }
}

template <class Conv>
struct conv2d_layer_impl : stateless_layer {
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
      conv2d_forward(ctx, g, batch, in.out, weight, b.bias, b.out, b.scratch);
    }
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    constexpr conv_geometry g = conv_geometry_of<Conv, In, Out>();
    // GradwithTrace (spec §B.3): after an OTTT neuron the weight gradient reads the trace.
    const float* kept = In::traced ? in.out_trace : in.out;
    float* grad_in = GradToInput ? in.grad_out : nullptr;
    if constexpr (Conv::standardized) {
      const long long n = static_cast<long long>(g.out_c) * g.column_rows();
      float* grad_weight_hat = b.weight_hat + n;
      ctx.zero(grad_weight_hat, n);
      backward_through(ctx, g, batch, kept, b.grad_out, b.weight_hat, grad_weight_hat, b.grad_bias, grad_in, b.scratch);
      standardize_backward(ctx, g.out_c, g.column_rows(), b.weight, b.gain, grad_weight_hat, b.grad_weight, b.grad_gain);
    } else {
      backward_through(ctx, g, batch, kept, b.grad_out, b.weight, b.grad_weight, b.grad_bias, grad_in, b.scratch);
    }
  }

 private:
  static void backward_through(const context& ctx, const conv_geometry& g, int batch, const float* kept, const float* grad_out,
                               const float* weight, float* grad_weight, float* grad_bias, float* grad_in, float* scratch) {
    if (ctx.cudnn) {
      conv2d_backward_cudnn(ctx, g, batch, kept, grad_out, weight, grad_weight, grad_bias, grad_in);
    } else {
      conv2d_backward(ctx, g, batch, kept, grad_out, weight, grad_weight, grad_bias, grad_in, scratch);
    }
  }
};

template <int O, int K, conv_opts P>
struct layer_impl<Conv2d<O, K, P>> : conv2d_layer_impl<Conv2d<O, K, P>> {};
template <int O, int K, conv_opts P>
struct layer_impl<WSConv2d<O, K, P>> : conv2d_layer_impl<WSConv2d<O, K, P>> {};

}  // namespace spikefuse::cuda
