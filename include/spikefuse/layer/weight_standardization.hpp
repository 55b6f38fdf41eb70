// Scaled weight standardisation per output row: Ŵ = g ⊙ (W − μ) / √(σ²·n + ε), σ² unbiased over the n = fan_in inputs (spec §F.1).
//
// Backward, with u = W − μ, D = √(σ²·n + ε) and a = g·∂Ŵ:
//   ∂W_j += (a_j − ā)/D − n·(Σ_i a_i·u_i)·u_j / ((n − 1)·D³),   ∂g += Σ_i ∂Ŵ_i·u_i/D.
// Parameter gradients ACCUMULATE (+=), like every parameter gradient in spikefuse. Sums run in
// double: the row is short, and the result stays within float rounding of PyTorch's.
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

SF_HOST_DEVICE row_moments moments(const float* w, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += w[i];
  const float mean = static_cast<float>(sum / n);
  double squares = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = static_cast<double>(w[i]) - mean;
    squares += u * u;
  }
  const float variance = n > 1 ? static_cast<float>(squares / (n - 1)) : 0.f;
  return {mean, math::sqrt(variance * static_cast<float>(n) + epsilon)};
}

/// ŵ = (w − μ)/D · g for one output row of n weights.
SF_HOST_DEVICE void standardize_row(const float* w, float gain, int n, float* w_hat) {
  const row_moments m = moments(w, n);
  for (int i = 0; i < n; ++i) w_hat[i] = (w[i] - m.mean) / m.denominator * gain;
}

/// Chains ∂Ŵ of one row into ∂W and ∂g (both +=).
SF_HOST_DEVICE void standardize_row_backward(const float* w, float gain, int n, const float* grad_w_hat,
                                             float* grad_w, float* grad_gain) {
  const row_moments m = moments(w, n);
  const double d = m.denominator;
  double a_sum = 0.0, a_dot_u = 0.0, gain_grad = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = static_cast<double>(w[i]) - m.mean;
    const double a = static_cast<double>(grad_w_hat[i]) * gain;
    a_sum += a;
    a_dot_u += a * u;
    gain_grad += grad_w_hat[i] * (u / d);
  }
  const double a_mean = a_sum / n;
  const double coupling = n > 1 ? static_cast<double>(n) * a_dot_u / ((n - 1) * d * d * d) : 0.0;
  for (int j = 0; j < n; ++j) {
    const double u = static_cast<double>(w[j]) - m.mean;
    const double a = static_cast<double>(grad_w_hat[j]) * gain;
    grad_w[j] += static_cast<float>((a - a_mean) / d - coupling * u);
  }
  *grad_gain += static_cast<float>(gain_grad);
}

}  // namespace spikefuse::ws
