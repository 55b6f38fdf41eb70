// CUDA Linear: z = x·Wᵀ (+ b) by cuBLAS; backward dW += δᵀ·x̂ (GEMM with β = 1, in place), dx = δ·W, db += Σ_batch δ.
//
// Per step: 1 GEMM forward, 2 GEMMs backward (1 for the first parametric layer, which needs no dx).
// The bias is usually handled by the next kernel (Fusion::bias_by_consumer: a neuron or the loss);
// otherwise a broadcast add forward and a column sum backward.
#pragma once

#include "spikefuse/backend/cuda/layer_impl.cuh"
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

template <int OutFeatures, linear_opts Opts>
struct layer_impl<Linear<OutFeatures, Opts>> : stateless_layer {
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase, const device_buffers& in, device_buffers& b) {
    constexpr int in_features = static_cast<int>(In::size);
    ctx.gemm(false, true, batch, OutFeatures, in_features, 1.f, in.out, in_features, b.weight, in_features, 0.f, b.out,
             OutFeatures);
    if constexpr (Opts.bias && !Fusion::bias_by_consumer)
      launch_elementwise(ctx, static_cast<long long>(batch) * OutFeatures, bias_add_op{b.out, b.bias, OutFeatures});
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    constexpr int in_features = static_cast<int>(In::size);
    // GradwithTrace (spec §B.3): after an OTTT neuron the weight gradient reads the trace; otherwise
    // (SLTT spikes, the raw input of the first layer, a current) the layer's own input.
    const float* kept = In::traced ? in.out_trace : in.out;
    ctx.gemm(true, false, OutFeatures, in_features, batch, 1.f, b.grad_out, OutFeatures, kept, in_features, 1.f,
             b.grad_weight, in_features);
    if constexpr (Opts.bias && !Fusion::bias_by_consumer)
      launch_elementwise(ctx, OutFeatures, column_sum_op{b.grad_out, b.grad_bias, batch, OutFeatures});
    if constexpr (GradToInput)
      ctx.gemm(false, false, batch, in_features, OutFeatures, 1.f, b.grad_out, OutFeatures, b.weight, in_features, 0.f,
               in.grad_out, in_features);
  }
};

}  // namespace spikefuse::cuda
