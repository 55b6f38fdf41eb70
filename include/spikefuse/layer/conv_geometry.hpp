// conv_geometry: the index map of a k×k convolution, input pixel (c, y·s − p + i, x·s − p + j) ↔ column row (c·k + i)·k + j, column p = y·Wₒ + x.
#pragma once

#include "spikefuse/config.hpp"
#include "spikefuse/core/shape.hpp"

namespace spikefuse {

struct conv_geometry {
  int in_c, in_h, in_w;
  int out_c, out_h, out_w;
  int kernel, stride, padding;

  SF_HOST_DEVICE constexpr int column_rows() const { return in_c * kernel * kernel; }
  SF_HOST_DEVICE constexpr int out_pixels() const { return out_h * out_w; }
  SF_HOST_DEVICE constexpr int in_pixels() const { return in_h * in_w; }

  /// The default cap on a chunk's columns and gathered ∂: 2^22 floats, 16 MiB (chosen on the CPU;
  /// the CUDA backend takes it from cuda::model_options::im2col_chunk_mib).
  static constexpr long long default_chunk_floats = 1LL << 22;

  /// Samples lowered to columns at once: as few chunks as fit `budget` floats of columns plus
  /// gathered gradients each, so that one GEMM covers many samples without the buffer growing with
  /// the batch, and the batch split evenly among them: 64 samples where 60 fit are two chunks of 32,
  /// not 60 and a GEMM over the last 4.
  constexpr int samples_per_chunk(int batch, long long budget = default_chunk_floats) const {
    const long long per_sample = static_cast<long long>(column_rows() + out_c) * out_pixels();
    long long most = budget / per_sample;
    if (most < 1) most = 1;
    if (most >= batch) return batch;
    const long long chunks = (batch + most - 1) / most;
    return static_cast<int>((batch + chunks - 1) / chunks);
  }
  /// f(first, count, ld) for each chunk of samples [first, first + count), ld = count·HₒWₒ columns.
  template <class F>
  void for_each_chunk(int batch, F&& f, long long budget = default_chunk_floats) const {
    const int chunk = samples_per_chunk(batch, budget);
    for (int first = 0; first < batch; first += chunk) {
      const int count = batch - first < chunk ? batch - first : chunk;
      f(first, count, static_cast<long long>(count) * out_pixels());
    }
  }
  /// Scratch floats for `batch` samples: columns [k²·C × chunk·HₒWₒ] and gathered ∂z [Cₒ × chunk·HₒWₒ].
  constexpr long long scratch_floats(int batch, long long budget = default_chunk_floats) const {
    return static_cast<long long>(samples_per_chunk(batch, budget)) * (column_rows() + out_c) * out_pixels();
  }
};

template <class Conv, class In, class Out>
constexpr conv_geometry conv_geometry_of() {
  return {In::dims.c, In::dims.h, In::dims.w, Out::dims.c, Out::dims.h, Out::dims.w, Conv::kernel, Conv::stride, Conv::padding};
}

}  // namespace spikefuse
