// CPU BatchNorm2d: y = x·α + β' with α = γ/√(σ²_B + ε), β' = β − μ_B·α per channel; backward ∂x = (∂y − mean ∂y − x̂·mean(∂y·x̂))·γ/σ, ∂γ += Σ ∂y·x̂, ∂β += Σ ∂y.
//
// The order of operations follows PyTorch's CPU kernels and the channel sums are in double, so that
// the golden comparison measures the method, not rounding.
#pragma once

#include <array>
#include <cmath>

#include "spikefuse/backend/cpu/double_sums.hpp"
#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/layer/batch_norm.hpp"

namespace spikefuse::cpu {

template <class BN>
struct batch_norm_layer_impl : stateless_layer {
  template <class In, class Out>
  static void forward(int batch, phase ph, const layer_buffers& in, layer_buffers& b) {
    constexpr int channels = In::dims.c;
    constexpr long long plane = static_cast<long long>(In::dims.h) * In::dims.w;
    const long long count = batch * plane;
    float* running_mean = b.statistics;
    float* running_var = b.statistics + channels;
    float* mean_out = b.saved;
    float* inv_std_out = b.saved + channels;
    const bool batch_statistics = is_training(ph);
#pragma omp parallel for schedule(static) if (batch * In::size > 65536)
    for (int c = 0; c < channels; ++c) {
      float mean, inv_std;
      if (batch_statistics) {
        double_sums<1> sum;
        for (int s = 0; s < batch; ++s) {
          const float* x = in.out + (static_cast<long long>(s) * channels + c) * plane;
          sum.add(plane, [x](long long p) { return std::array<double, 1>{x[p]}; });
        }
        const double mean_d = sum.totals()[0] / static_cast<double>(count);
        double_sums<1> deviations;
        for (int s = 0; s < batch; ++s) {
          const float* x = in.out + (static_cast<long long>(s) * channels + c) * plane;
          deviations.add(plane, [x, mean_d](long long p) {
            const double d = x[p] - mean_d;
            return std::array<double, 1>{d * d};
          });
        }
        const double squares = deviations.totals()[0];
        mean = static_cast<float>(mean_d);
        inv_std = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(count) + BN::eps));
        const double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : squares;
        running_mean[c] = static_cast<float>(BN::momentum * mean_d + (1.0 - BN::momentum) * running_mean[c]);
        running_var[c] = static_cast<float>(BN::momentum * unbiased + (1.0 - BN::momentum) * running_var[c]);
      } else {
        mean = running_mean[c];
        inv_std = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + BN::eps));
      }
      mean_out[c] = mean;
      inv_std_out[c] = inv_std;
      const float alpha = inv_std * b.weight[c];
      const float shift = b.bias[c] - mean * alpha;
      for (int s = 0; s < batch; ++s) {
        const long long at = (static_cast<long long>(s) * channels + c) * plane;
        for (long long p = 0; p < plane; ++p) b.out[at + p] = in.out[at + p] * alpha + shift;
      }
    }
  }

  /// γ and β gradients ACCUMULATE (+=); ∂x is overwritten.
  template <class In, class Out, bool GradToInput>
  static void backward(int batch, layer_buffers& in, const layer_buffers& b) {
    constexpr int channels = In::dims.c;
    constexpr long long plane = static_cast<long long>(In::dims.h) * In::dims.w;
    const long long count = batch * plane;
#pragma omp parallel for schedule(static) if (batch * In::size > 65536)
    for (int c = 0; c < channels; ++c) {
      const float mean = b.saved[c];
      const float inv_std = b.saved[channels + c];
      double_sums<2> sums;  // Σ ∂y and Σ (x − μ)·∂y
      for (int s = 0; s < batch; ++s) {
        const long long at = (static_cast<long long>(s) * channels + c) * plane;
        const float* x = in.out + at;
        const float* grad_y = b.grad_out + at;
        sums.add(plane, [x, grad_y, mean](long long p) {
          return std::array<double, 2>{grad_y[p], static_cast<double>(x[p] - mean) * grad_y[p]};
        });
      }
      const auto [grad_sum, dot] = sums.totals();
      if constexpr (GradToInput) {
        const float k = static_cast<float>(dot * inv_std * inv_std / static_cast<double>(count));
        const float grad_mean = static_cast<float>(grad_sum / static_cast<double>(count));
        const float scale = inv_std * b.weight[c];
        for (int s = 0; s < batch; ++s) {
          const long long at = (static_cast<long long>(s) * channels + c) * plane;
          for (long long p = 0; p < plane; ++p) {
            const float centred = (in.out[at + p] - mean) * k;
            in.grad_out[at + p] = (b.grad_out[at + p] - grad_mean - centred) * scale;
          }
        }
      }
      b.grad_weight[c] += static_cast<float>(dot * inv_std);
      b.grad_bias[c] += static_cast<float>(grad_sum);
    }
  }
};

template <batch_norm_opts O>
struct layer_impl<BatchNorm2d<O>> : batch_norm_layer_impl<BatchNorm2d<O>> {};

}  // namespace spikefuse::cpu
