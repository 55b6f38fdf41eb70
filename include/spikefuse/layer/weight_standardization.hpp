// Scaled weight standardisation per output row: Ŵ = g ⊙ (W − μ) / √(σ²·n + ε), σ² unbiased over the n = fan_in inputs (spec §F.1).
//
// Backward, with u = W − μ, D = √(σ²·n + ε) and a = g·∂Ŵ:
//   ∂W_j += (a_j − ā)/D − n·(Σ_i a_i·u_i)·u_j / ((n − 1)·D³),   ∂g += Σ_i ∂Ŵ_i·u_i/D.
// Parameter gradients ACCUMULATE (+=), like every parameter gradient in spikefuse. The row sums run
// in double (the row is short, and the result stays within float rounding of PyTorch's). The math
// is written once as pieces: the backends only choose how to sum a row (a loop on the CPU, a block
// reduction on the GPU) and call the same per-element functions.
#pragma once

#include "spikefuse/config.hpp"
#include "spikefuse/core/math.hpp"

namespace spikefuse::ws {

/// SpikingJelly's WSConv2d / WSLinear ε.
inline constexpr float epsilon = 1e-4f;

struct row_moments {
  float mean;
  float denominator;  // D = √(σ²·n + ε)
};

/// μ from Σw; then D from Σ(w − μ)².
SF_HOST_DEVICE float row_mean(double sum, int n) { return static_cast<float>(sum / n); }
SF_HOST_DEVICE row_moments moments_from(float mean, double squares, int n) {
  const float variance = n > 1 ? static_cast<float>(squares / (n - 1)) : 0.f;
  return {mean, math::sqrt(variance * static_cast<float>(n) + epsilon)};
}
SF_HOST_DEVICE double centred_square(float w, float mean) {
  const double u = static_cast<double>(w) - mean;
  return u * u;
}

/// ŵ = (w − μ)/D · g.
SF_HOST_DEVICE float standardized(float w, row_moments m, float gain) { return (w - m.mean) / m.denominator * gain; }

/// The three row sums of the backward, for one element: a = g·∂ŵ, a·u, ∂ŵ·u/D.
struct backward_sums {
  double a = 0, a_dot_u = 0, gain_grad = 0;
  SF_HOST_DEVICE void add(float w, float grad_w_hat, row_moments m, float gain) {
    const double u = static_cast<double>(w) - m.mean;
    const double ai = static_cast<double>(grad_w_hat) * gain;
    a += ai;
    a_dot_u += ai * u;
    gain_grad += grad_w_hat * (u / m.denominator);
  }
};

/// ∂W_j of one element from the row's sums.
SF_HOST_DEVICE float weight_grad(float w, float grad_w_hat, row_moments m, float gain, const backward_sums& s, int n) {
  const double d = m.denominator;
  const double coupling = n > 1 ? static_cast<double>(n) * s.a_dot_u / ((n - 1) * d * d * d) : 0.0;
  const double u = static_cast<double>(w) - m.mean;
  const double a = static_cast<double>(grad_w_hat) * gain;
  return static_cast<float>((a - s.a / n) / d - coupling * u);
}

/// The row's moments by serial sums (the CPU loop, and the host reference of tests).
SF_HOST_DEVICE row_moments moments(const float* w, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += w[i];
  const float mean = row_mean(sum, n);
  double squares = 0.0;
  for (int i = 0; i < n; ++i) squares += centred_square(w[i], mean);
  return moments_from(mean, squares, n);
}

/// ŵ = (w − μ)/D · g for one output row of n weights.
SF_HOST_DEVICE void standardize_row(const float* w, float gain, int n, float* w_hat) {
  const row_moments m = moments(w, n);
  for (int i = 0; i < n; ++i) w_hat[i] = standardized(w[i], m, gain);
}

/// Chains ∂Ŵ of one row into ∂W and ∂g (both +=).
SF_HOST_DEVICE void standardize_row_backward(const float* w, float gain, int n, const float* grad_w_hat, float* grad_w,
                                             float* grad_gain) {
  const row_moments m = moments(w, n);
  backward_sums s;
  for (int i = 0; i < n; ++i) s.add(w[i], grad_w_hat[i], m, gain);
  for (int j = 0; j < n; ++j) grad_w[j] += weight_grad(w[j], grad_w_hat[j], m, gain, s, n);
  *grad_gain += static_cast<float>(s.gain_grad);
}

}  // namespace spikefuse::ws
