// CUDA BatchNorm2d: y = x·α + β' per channel, α = γ/√(σ² + ε), β' = β − μ·α (batch statistics in training, running ones in evaluation);
// backward ∂x = (∂y − mean ∂y − (x − μ)·k)·γ/σ with k = Σ∂y(x − μ)/(σ²·N), ∂γ += Σ ∂y·x̂, ∂β += Σ ∂y.
//
// One block per channel does the reduction and then the elementwise pass, so each direction is one
// kernel. Sums run in double and the per-element arithmetic is the CPU backend's, in the same order.
#pragma once

#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/reduce.cuh"
#include "spikefuse/layer/batch_norm.hpp"

namespace spikefuse::cuda {

inline constexpr int batch_norm_threads = reduce_threads;  // one block per channel

template <bool BatchStatistics, int Channels, int Plane>
__global__ void __launch_bounds__(batch_norm_threads)
    batch_norm_forward_kernel(const float* in, float* out, const float* weight, const float* bias, float* running_mean,
                              float* running_var, float* saved_mean, float* saved_inv_std, int batch, float momentum,
                              float eps) {
  __shared__ double shared[batch_norm_threads];
  const int c = blockIdx.x;
  const int count = batch * Plane;
  float mean, inv_std;
  if constexpr (BatchStatistics) {
    double sum = 0.0;
    for (int j = threadIdx.x; j < count; j += batch_norm_threads) sum += in[channel_element<Channels, Plane>(j, c)];
    const double mean_d = block_sum(sum, shared) / static_cast<double>(count);
    double squares = 0.0;
    for (int j = threadIdx.x; j < count; j += batch_norm_threads) {
      const double d = in[channel_element<Channels, Plane>(j, c)] - mean_d;
      squares += d * d;
    }
    squares = block_sum(squares, shared);
    mean = static_cast<float>(mean_d);
    inv_std = static_cast<float>(1.0 / sqrt(squares / static_cast<double>(count) + eps));
    if (threadIdx.x == 0) {
      const double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : squares;
      running_mean[c] = static_cast<float>(momentum * mean_d + (1.0 - momentum) * running_mean[c]);
      running_var[c] = static_cast<float>(momentum * unbiased + (1.0 - momentum) * running_var[c]);
    }
  } else {
    mean = running_mean[c];
    inv_std = static_cast<float>(1.0 / sqrt(static_cast<double>(running_var[c]) + eps));
  }
  if (threadIdx.x == 0) {
    saved_mean[c] = mean;
    saved_inv_std[c] = inv_std;
  }
  const float alpha = inv_std * weight[c];
  const float shift = bias[c] - mean * alpha;
  for (int j = threadIdx.x; j < count; j += batch_norm_threads) {
    const long long at = channel_element<Channels, Plane>(j, c);
    out[at] = __fadd_rn(__fmul_rn(in[at], alpha), shift);
  }
}

template <bool GradToInput, int Channels, int Plane>
__global__ void __launch_bounds__(batch_norm_threads)
    batch_norm_backward_kernel(const float* in, const float* grad_out, float* grad_in, const float* weight,
                               const float* saved_mean, const float* saved_inv_std, float* grad_weight, float* grad_bias,
                               int batch) {
  __shared__ double shared[batch_norm_threads];
  const int c = blockIdx.x;
  const int count = batch * Plane;
  const float mean = saved_mean[c], inv_std = saved_inv_std[c];
  double grad_sum = 0.0, dot = 0.0;
  for (int j = threadIdx.x; j < count; j += batch_norm_threads) {
    const long long at = channel_element<Channels, Plane>(j, c);
    grad_sum += grad_out[at];
    dot += static_cast<double>(in[at] - mean) * grad_out[at];
  }
  grad_sum = block_sum(grad_sum, shared);
  dot = block_sum(dot, shared);
  if constexpr (GradToInput) {
    const float k = static_cast<float>(dot * inv_std * inv_std / static_cast<double>(count));
    const float grad_mean = static_cast<float>(grad_sum / static_cast<double>(count));
    const float scale = inv_std * weight[c];
    for (int j = threadIdx.x; j < count; j += batch_norm_threads) {
      const long long at = channel_element<Channels, Plane>(j, c);
      const float centred = __fmul_rn(in[at] - mean, k);
      grad_in[at] = __fmul_rn(grad_out[at] - grad_mean - centred, scale);
    }
  }
  if (threadIdx.x == 0) {
    grad_weight[c] += static_cast<float>(dot * inv_std);
    grad_bias[c] += static_cast<float>(grad_sum);
  }
}

template <class BN>
struct batch_norm_layer_impl : stateless_layer {
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase ph, const device_buffers& in, device_buffers& b) {
    constexpr int channels = In::dims.c;
    constexpr int plane = In::dims.h * In::dims.w;
    check_channel_count(batch, plane);
    float* running_mean = b.statistics;
    float* running_var = b.statistics + channels;
    if (is_training(ph)) {
      batch_norm_forward_kernel<true, channels, plane><<<channels, batch_norm_threads, 0, ctx.stream>>>(
          in.out, b.out, b.weight, b.bias, running_mean, running_var, b.saved, b.saved + channels, batch, BN::momentum,
          BN::eps);
    } else {
      batch_norm_forward_kernel<false, channels, plane><<<channels, batch_norm_threads, 0, ctx.stream>>>(
          in.out, b.out, b.weight, b.bias, running_mean, running_var, b.saved, b.saved + channels, batch, BN::momentum,
          BN::eps);
    }
    ctx.kernel_launched();
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    constexpr int channels = In::dims.c;
    constexpr int plane = In::dims.h * In::dims.w;
    check_channel_count(batch, plane);
    batch_norm_backward_kernel<GradToInput, channels, plane><<<channels, batch_norm_threads, 0, ctx.stream>>>(
        in.out, b.grad_out, GradToInput ? in.grad_out : nullptr, b.weight, b.saved, b.saved + channels, b.grad_weight,
        b.grad_bias, batch);
    ctx.kernel_launched();
  }
};

template <batch_norm_opts O>
struct layer_impl<BatchNorm2d<O>> : batch_norm_layer_impl<BatchNorm2d<O>> {};

}  // namespace spikefuse::cuda
