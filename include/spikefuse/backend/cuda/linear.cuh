// CUDA Linear / WSLinear: z = x·Wᵀ (+ b) by cuBLAS (W → Ŵ when standardised); backward dW += δᵀ·x̂ (GEMM with β = 1, in place), dx = δ·W, db += Σ_batch δ.
//
// Per step: 1 GEMM forward, 2 GEMMs backward (1 for the first parametric layer, which needs no dx).
// The bias is usually handled by the next kernel (Fusion::bias_by_consumer: a neuron or the loss);
// otherwise a broadcast add forward and a column sum backward.
#pragma once

#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/weight_standardization.cuh"
#include "spikefuse/layer/linear.hpp"

namespace spikefuse::cuda {

/// out[r, f] += bias[f].
struct bias_add_op {
  float* out;
  const float* bias;
  long long features;
  __device__ void operator()(long long i) const { out[i] += bias[i % features]; }
};

/// grad_bias[f] += Σ_r grad[r, f], one thread per feature, rows in order (the CPU's summation order).
struct column_sum_op {
  const float* grad;
  float* grad_bias;
  int batch;
  long long features;
  __device__ void operator()(long long f) const {
    float sum = 0.f;
    for (int r = 0; r < batch; ++r) sum += grad[static_cast<long long>(r) * features + f];
    grad_bias[f] += sum;
  }
};

template <class L>
struct linear_layer_impl : stateless_layer {
  static constexpr int out_features = L::out_features;
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase, const device_buffers& in, device_buffers& b) {
    constexpr int in_features = static_cast<int>(In::size);
    const float* weight = b.weight;
    if constexpr (L::standardized) {
      standardize(ctx, out_features, in_features, b.weight, b.gain, b.weight_hat);
      weight = b.weight_hat;
    }
    ctx.gemm(false, true, batch, out_features, in_features, 1.f, in.out, in_features, weight, in_features, 0.f, b.out,
             out_features);
    if constexpr (L::has_bias && !Fusion::bias_by_consumer)
      launch_elementwise(ctx, static_cast<long long>(batch) * out_features, bias_add_op{b.out, b.bias, out_features});
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    constexpr int in_features = static_cast<int>(In::size);
    // GradwithTrace (spec §B.3): after an OTTT neuron the weight gradient reads the trace; otherwise
    // (SLTT spikes, the raw input of the first layer, a current) the layer's own input.
    const float* kept = In::traced ? in.out_trace : in.out;
    const float kept_factor = In::traced ? in.out_trace_factor : 1.f;  // c: a trace read through a fused Scale<c>
    // A standardised layer collects ∂Ŵ of this step (β = 0) and chains it into ∂W and ∂gain below.
    float* grad_weight = L::standardized ? b.grad_weight_hat : b.grad_weight;
    const float* weight = L::standardized ? b.weight_hat : b.weight;
    ctx.gemm(true, false, out_features, in_features, batch, kept_factor, b.grad_out, out_features, kept, in_features,
             L::standardized ? 0.f : 1.f, grad_weight, in_features);
    if constexpr (L::has_bias && !Fusion::bias_by_consumer)
      launch_elementwise(ctx, out_features, column_sum_op{b.grad_out, b.grad_bias, batch, out_features});
    if constexpr (GradToInput)
      ctx.gemm(false, false, batch, in_features, out_features, 1.f, b.grad_out, out_features, weight, in_features, 0.f,
               in.grad_out, in_features);
    if constexpr (L::standardized)
      standardize_backward(ctx, out_features, in_features, b.weight, b.gain, grad_weight, b.grad_weight, b.grad_gain);
  }
};

template <int OutFeatures, linear_opts Opts>
struct layer_impl<Linear<OutFeatures, Opts>> : linear_layer_impl<Linear<OutFeatures, Opts>> {};
template <int OutFeatures, linear_opts Opts>
struct layer_impl<WSLinear<OutFeatures, Opts>> : linear_layer_impl<WSLinear<OutFeatures, Opts>> {};

}  // namespace spikefuse::cuda
