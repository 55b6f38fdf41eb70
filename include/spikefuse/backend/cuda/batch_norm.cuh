// CUDA BatchNorm2d: y = x·α + β' per channel, α = γ/√(σ² + ε), β' = β − μ·α (batch statistics in training, running ones in evaluation);
// backward ∂x = (∂y − mean ∂y − (x − μ)·k)·γ/σ with k = Σ∂y(x − μ)/(σ²·N), ∂γ += Σ ∂y·x̂, ∂β += Σ ∂y.
//
// Each direction is two kernels over a grid of (range of a channel, channel) blocks (reduce.cuh's
// channel_split): one reduces the channel sums in double, one does the elementwise pass. The
// per-element arithmetic is the CPU backend's, in the same order; the sums are its sums up to
// double rounding (a shifted one-pass variance instead of the CPU's two passes: one read less).
#pragma once

#include <stdexcept>

#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/reduce.cuh"
#include "spikefuse/layer/batch_norm.hpp"

namespace spikefuse::cuda {

/// Batch statistics of channel blockIdx.y: Σd and Σd² (d = x − x₀ of the channel) over the block's
/// range, then in the channel's last block μ and 1/σ into `saved_*` and the running statistics.
template <int Channels, int Plane>
__global__ void __launch_bounds__(reduce_threads)
    batch_norm_statistics_kernel(const float* in, float* running_mean, float* running_var, float* saved_mean,
                                 float* saved_inv_std, int batch, channel_split split, channel_workspace workspace,
                                 float momentum, float eps) {
  __shared__ double shared[reduce_threads];
  const int c = blockIdx.y;
  const int count = batch * Plane;
  const double shift = in[channel_element<Channels, Plane>(0, c)];
  double sums[2] = {0.0, 0.0};
  for_each_in_range<Channels, Plane>(split, batch, [&](long long at) {
    const double d = in[at] - shift;
    sums[0] += d;
    sums[1] += d * d;
  });
  if (!channel_reduce(sums, workspace, shared) || threadIdx.x != 0) return;
  const auto m = moments_from_shifted_sums(shift, sums[0], sums[1], static_cast<double>(count));
  saved_mean[c] = static_cast<float>(m.mean);
  saved_inv_std[c] = static_cast<float>(1.0 / sqrt(m.squares / static_cast<double>(count) + eps));
  const double unbiased = count > 1 ? m.squares / static_cast<double>(count - 1) : m.squares;
  running_mean[c] = static_cast<float>(momentum * m.mean + (1.0 - momentum) * running_mean[c]);
  running_var[c] = static_cast<float>(momentum * unbiased + (1.0 - momentum) * running_var[c]);
}

/// y = x·α + β' over the block's range. Training reads the μ and 1/σ the statistics kernel saved;
/// evaluation computes them from the running statistics and saves them (range 0's first thread).
template <bool BatchStatistics, int Channels, int Plane>
__global__ void __launch_bounds__(reduce_threads)
    batch_norm_normalize_kernel(const float* in, float* out, const float* weight, const float* bias,
                                const float* running_mean, const float* running_var, float* saved_mean,
                                float* saved_inv_std, int batch, channel_split split, float eps) {
  const int c = blockIdx.y, part = blockIdx.x;
  float mean, inv_std;
  if constexpr (BatchStatistics) {
    mean = saved_mean[c];
    inv_std = saved_inv_std[c];
  } else {
    mean = running_mean[c];
    inv_std = static_cast<float>(1.0 / sqrt(static_cast<double>(running_var[c]) + eps));
    if (part == 0 && threadIdx.x == 0) {
      saved_mean[c] = mean;
      saved_inv_std[c] = inv_std;
    }
  }
  const float alpha = inv_std * weight[c];
  const float shift = bias[c] - mean * alpha;
  for_each_in_range<Channels, Plane>(split, batch, [&](long long at) { out[at] = __fadd_rn(__fmul_rn(in[at], alpha), shift); });
}

/// Σ∂y and Σ∂y·(x − μ) of channel blockIdx.y; the channel's last block adds ∂β += Σ∂y and
/// ∂γ += Σ∂y·(x − μ)/σ (parameter gradients ACCUMULATE) and leaves both sums in workspace.totals.
template <int Channels, int Plane>
__global__ void __launch_bounds__(reduce_threads)
    batch_norm_gradient_sums_kernel(const float* in, const float* grad_out, const float* saved_mean,
                                    const float* saved_inv_std, float* grad_weight, float* grad_bias, int batch,
                                    channel_split split, channel_workspace workspace) {
  __shared__ double shared[reduce_threads];
  const int c = blockIdx.y;
  const float mean = saved_mean[c];
  double sums[2] = {0.0, 0.0};  // Σ∂y, Σ∂y·(x − μ)
  for_each_in_range<Channels, Plane>(split, batch, [&](long long at) {
    sums[0] += grad_out[at];
    sums[1] += static_cast<double>(in[at] - mean) * grad_out[at];
  });
  if (!channel_reduce(sums, workspace, shared) || threadIdx.x != 0) return;
  grad_weight[c] += static_cast<float>(sums[1] * saved_inv_std[c]);
  grad_bias[c] += static_cast<float>(sums[0]);
}

/// ∂x over the block's range (overwritten), from the sums the previous kernel left in `totals` (no
/// other reduction runs between the two: they are launched back to back on one stream).
template <int Channels, int Plane>
__global__ void __launch_bounds__(reduce_threads)
    batch_norm_input_grad_kernel(const float* in, const float* grad_out, float* grad_in, const float* weight,
                                 const float* saved_mean, const float* saved_inv_std, const double* totals, int batch,
                                 channel_split split) {
  const int c = blockIdx.y;
  const int count = batch * Plane;
  const float mean = saved_mean[c], inv_std = saved_inv_std[c];
  const double grad_sum = totals[2 * c], dot = totals[2 * c + 1];
  const float k = static_cast<float>(dot * inv_std * inv_std / static_cast<double>(count));
  const float grad_mean = static_cast<float>(grad_sum / static_cast<double>(count));
  const float scale = inv_std * weight[c];
  for_each_in_range<Channels, Plane>(split, batch, [&](long long at) {
    const float centred = __fmul_rn(in[at] - mean, k);
    grad_in[at] = __fmul_rn(grad_out[at] - grad_mean - centred, scale);
  });
}

/// The launches of one BatchNorm2d direction, on the split the layer uses or on one given (tests).
template <int Channels, int Plane, float Momentum, float Eps>
struct batch_norm_launch {
  static channel_split split_for(int batch) {
    if (batch < 1) throw std::invalid_argument("spikefuse: BatchNorm2d needs a batch of one or more samples");
    check_channel_count(batch, Plane);
    return split_channel(static_cast<long long>(batch) * Plane, Channels);
  }
  /// running = (mean, var) of the channels, saved = (μ, 1/σ) of this step.
  static void forward(const context& ctx, int batch, bool batch_statistics, const float* in, float* out,
                      const float* weight, const float* bias, float* running, float* saved, const channel_split& split) {
    const dim3 grid = channel_grid<Channels>(split, ctx.reduction);
    if (batch_statistics) {
      batch_norm_statistics_kernel<Channels, Plane><<<grid, reduce_threads, 0, ctx.stream>>>(
          in, running, running + Channels, saved, saved + Channels, batch, split, ctx.reduction, Momentum, Eps);
      ctx.kernel_launched();
      batch_norm_normalize_kernel<true, Channels, Plane><<<grid, reduce_threads, 0, ctx.stream>>>(
          in, out, weight, bias, running, running + Channels, saved, saved + Channels, batch, split, Eps);
    } else {
      batch_norm_normalize_kernel<false, Channels, Plane><<<grid, reduce_threads, 0, ctx.stream>>>(
          in, out, weight, bias, running, running + Channels, saved, saved + Channels, batch, split, Eps);
    }
    ctx.kernel_launched();
  }
  /// ∂γ, ∂β ACCUMULATE; ∂x (when grad_in is not null) is overwritten.
  static void backward(const context& ctx, int batch, const float* in, const float* grad_out, float* grad_in,
                       const float* weight, const float* saved, float* grad_weight, float* grad_bias,
                       const channel_split& split) {
    const dim3 grid = channel_grid<Channels>(split, ctx.reduction);
    batch_norm_gradient_sums_kernel<Channels, Plane><<<grid, reduce_threads, 0, ctx.stream>>>(
        in, grad_out, saved, saved + Channels, grad_weight, grad_bias, batch, split, ctx.reduction);
    ctx.kernel_launched();
    if (!grad_in) return;
    batch_norm_input_grad_kernel<Channels, Plane><<<grid, reduce_threads, 0, ctx.stream>>>(
        in, grad_out, grad_in, weight, saved, saved + Channels, ctx.reduction.totals, batch, split);
    ctx.kernel_launched();
  }
};

template <class BN>
struct batch_norm_layer_impl : stateless_layer {
  template <class In>
  using launch = batch_norm_launch<In::dims.c, In::dims.h * In::dims.w, BN::momentum, BN::eps>;

  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase ph, const device_buffers& in, device_buffers& b) {
    launch<In>::forward(ctx, batch, is_training(ph), in.out, b.out, b.weight, b.bias, b.statistics, b.saved,
                        launch<In>::split_for(batch));
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    launch<In>::backward(ctx, batch, in.out, b.grad_out, GradToInput ? in.grad_out : nullptr, b.weight, b.saved,
                         b.grad_weight, b.grad_bias, launch<In>::split_for(batch));
  }
};

template <batch_norm_opts O>
struct layer_impl<BatchNorm2d<O>> : batch_norm_layer_impl<BatchNorm2d<O>> {};

}  // namespace spikefuse::cuda
