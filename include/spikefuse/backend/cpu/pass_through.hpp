// CPU pass-through layers: y = c·x (Scale), y = m ⊙ x (Dropout); the same op on spikes and trace, ∂x = c·∂y or m ⊙ ∂y.
#pragma once

namespace spikefuse::cpu {

inline void scale(long long n, float factor, const float* __restrict in, float* __restrict out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i] * factor;
}

inline void multiply(long long n, const float* __restrict mask, const float* __restrict in, float* __restrict out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i] * mask[i];
}

inline void copy(long long n, const float* __restrict in, float* __restrict out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (long long i = 0; i < n; ++i) out[i] = in[i];
}

}  // namespace spikefuse::cpu
