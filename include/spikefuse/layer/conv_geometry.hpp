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

  /// Samples one chunk may hold: as many as fit `budget` floats of columns plus gathered gradients
  /// (at least one), so that one GEMM covers many samples without the buffer growing with the batch.
  constexpr long long samples_within(long long budget) const {
    const long long per_sample = static_cast<long long>(column_rows() + out_c) * out_pixels();
    return budget / per_sample < 1 ? 1 : budget / per_sample;
  }
  /// The batch is lowered in the fewest chunks within the budget, of even size (sizes differ by at
  /// most one: 64 samples where 60 fit are two chunks of 32, not 60 and a GEMM over the last 4).
  constexpr int chunk_count(int batch, long long budget = default_chunk_floats) const {
    const long long most = samples_within(budget);
    return static_cast<int>((batch + most - 1) / most);
  }
  /// The largest chunk's size.
  constexpr int samples_per_chunk(int batch, long long budget = default_chunk_floats) const {
    if (batch < 1) return 0;
    const int chunks = chunk_count(batch, budget);
    return (batch + chunks - 1) / chunks;
  }
  /// f(first, count, ld) for each chunk of samples [first, first + count), ld = count·HₒWₒ columns.
  template <class F>
  void for_each_chunk(int batch, F&& f, long long budget = default_chunk_floats) const {
    if (batch < 1) return;
    const int chunks = chunk_count(batch, budget);
    const int base = batch / chunks, longer = batch % chunks;  // the first `longer` chunks hold one more
    for (int i = 0, first = 0; i < chunks; ++i) {
      const int count = base + (i < longer ? 1 : 0);
      f(first, count, static_cast<long long>(count) * out_pixels());
      first += count;
    }
  }
  /// The largest chunk of any batch up to `max_batch`. Not samples_per_chunk(max_batch): even splits
  /// are not monotone in the batch (64 lowers chunks of 32, 60 one of 60).
  constexpr long long largest_chunk(int max_batch, long long budget = default_chunk_floats) const {
    const long long most = samples_within(budget);
    return most < max_batch ? most : max_batch;
  }
  /// Scratch floats for batches up to `max_batch`: columns [k²·C × chunk·HₒWₒ] and gathered ∂
  /// [Cₒ × chunk·HₒWₒ] of largest_chunk(max_batch).
  constexpr long long scratch_floats(int max_batch, long long budget = default_chunk_floats) const {
    return largest_chunk(max_batch, budget) * (column_rows() + out_c) * out_pixels();
  }
};

template <class Conv, class In, class Out>
constexpr conv_geometry conv_geometry_of() {
  return {In::dims.c, In::dims.h, In::dims.w, Out::dims.c, Out::dims.h, Out::dims.w, Conv::kernel, Conv::stride, Conv::padding};
}

}  // namespace spikefuse
