// CPU weight standardisation: Ŵ row by row before a step's forward; ∂Ŵ chained into ∂W and ∂gain (+=) after its backward.
#pragma once

#include "spikefuse/layer/weight_standardization.hpp"

namespace spikefuse::cpu {

/// Ŵ[o] = standardised W[o] · gain[o] for `rows` output rows of `cols` inputs each.
inline void standardize_weights(int rows, int cols, const float* weight, const float* gain, float* weight_hat) {
#pragma omp parallel for schedule(static) if (static_cast<long long>(rows) * cols > 32768)
  for (int o = 0; o < rows; ++o)
    ws::standardize_row(weight + static_cast<long long>(o) * cols, gain[o], cols, weight_hat + static_cast<long long>(o) * cols);
}

/// ∂W += ∂Ŵ·∂Ŵ/∂W and ∂gain += ∂Ŵ·∂Ŵ/∂gain, row by row.
inline void standardize_weights_backward(int rows, int cols, const float* weight, const float* gain,
                                         const float* grad_weight_hat, float* grad_weight, float* grad_gain) {
#pragma omp parallel for schedule(static) if (static_cast<long long>(rows) * cols > 32768)
  for (int o = 0; o < rows; ++o) {
    const long long row = static_cast<long long>(o) * cols;
    ws::standardize_row_backward(weight + row, gain[o], cols, grad_weight_hat + row, grad_weight + row, grad_gain + o);
  }
}

}  // namespace spikefuse::cpu
