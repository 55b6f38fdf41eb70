// CPU Linear / WSLinear: z = x·Wᵀ + b (GEMM, W → Ŵ when standardised); backward dW += δᵀ·x̂, db += Σ_batch δ, dx = δ·W, x̂ = kept input (trace for OTTT).
#pragma once

#include "spikefuse/backend/cpu/blas.hpp"
#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/backend/cpu/weight_standardization.hpp"
#include "spikefuse/layer/linear.hpp"

namespace spikefuse::cpu {

/// out[b×out] = in[b×in] · W[out×in]ᵀ + bias.
inline void linear_forward(int batch, int in_features, int out_features, const float* in, const float* weight,
                           const float* bias, float* out) {
  if (bias) {
    for (int r = 0; r < batch; ++r)
      for (int o = 0; o < out_features; ++o) out[static_cast<long long>(r) * out_features + o] = bias[o];
  }
  gemm(transpose::no, transpose::yes, batch, out_features, in_features, 1.f, in, in_features, weight, in_features,
       bias ? 1.f : 0.f, out, out_features);
}

/// Parameter gradients ACCUMULATE (+=) so that OTTT_A / SLTT sum the T per-step gradients in place;
/// the trainer zeroes them when the schedule starts a new update. dW += δᵀ·x̂:
inline void linear_backward_weight(int batch, int in_features, int out_features, const float* grad_out,
                                   const float* kept_input, float* grad_weight) {
  gemm(transpose::yes, transpose::no, out_features, in_features, batch, 1.f, grad_out, out_features, kept_input,
       in_features, 1.f, grad_weight, in_features);
}

/// db += Σ_batch δ (ACCUMULATES). This step's batch is summed first, then added: the same rounding
/// as autograd's per-step db added to .grad.
inline void linear_backward_bias(int batch, int out_features, const float* grad_out, float* grad_bias) {
  for (int o = 0; o < out_features; ++o) {
    float step_sum = 0.f;
    for (int r = 0; r < batch; ++r) step_sum += grad_out[static_cast<long long>(r) * out_features + o];
    grad_bias[o] += step_sum;
  }
}

inline void linear_backward_params(int batch, int in_features, int out_features, const float* grad_out,
                                   const float* kept_input, float* grad_weight, float* grad_bias) {
  linear_backward_weight(batch, in_features, out_features, grad_out, kept_input, grad_weight);
  if (grad_bias) linear_backward_bias(batch, out_features, grad_out, grad_bias);
}

/// grad_in[b×in] = grad_out[b×out] · W[out×in]; overwrites grad_in.
inline void linear_backward_input(int batch, int in_features, int out_features, const float* grad_out,
                                  const float* weight, float* grad_in) {
  gemm(transpose::no, transpose::no, batch, in_features, out_features, 1.f, grad_out, out_features, weight,
       in_features, 0.f, grad_in, in_features);
}

template <class L>
struct linear_layer_impl : stateless_layer {
  template <class In, class Out>
  static void forward(int batch, phase, const layer_buffers& in, layer_buffers& b) {
    constexpr int in_features = static_cast<int>(In::size);
    const float* weight = b.weight;
    if constexpr (L::standardized) {
      standardize_weights(L::out_features, in_features, b.weight, b.gain, b.weight_hat);
      weight = b.weight_hat;
    }
    linear_forward(batch, in_features, L::out_features, in.out, weight, b.bias, b.out);
  }
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    constexpr int in_features = static_cast<int>(In::size);
    // GradwithTrace (spec §B.3): after an OTTT neuron the weight gradient reads the trace; otherwise
    // (SLTT spikes, the raw input of the first layer, a current) the layer's own input.
    const float* kept = In::traced ? in.out_trace : in.out;
    if constexpr (L::standardized) {
      const long long n = static_cast<long long>(L::out_features) * in_features;
      float* grad_weight_hat = b.grad_weight_hat;
      for (long long i = 0; i < n; ++i) grad_weight_hat[i] = 0.f;
      linear_backward_params(batch, in_features, L::out_features, b.grad_out, kept, grad_weight_hat, b.grad_bias);
      if constexpr (GradToInput)
        linear_backward_input(batch, in_features, L::out_features, b.grad_out, b.weight_hat, in.grad_out);
      standardize_weights_backward(L::out_features, in_features, b.weight, b.gain, grad_weight_hat, b.grad_weight, b.grad_gain);
    } else {
      linear_backward_params(batch, in_features, L::out_features, b.grad_out, kept, b.grad_weight, b.grad_bias);
      if constexpr (GradToInput)
        linear_backward_input(batch, in_features, L::out_features, b.grad_out, b.weight, in.grad_out);
    }
  }
};

template <int OutFeatures, linear_opts Opts>
struct layer_impl<Linear<OutFeatures, Opts>> : linear_layer_impl<Linear<OutFeatures, Opts>> {};
template <int OutFeatures, linear_opts Opts>
struct layer_impl<WSLinear<OutFeatures, Opts>> : linear_layer_impl<WSLinear<OutFeatures, Opts>> {};

}  // namespace spikefuse::cpu
