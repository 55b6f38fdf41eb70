// Reductions of the CUDA backend: Σ over a block in double in a fixed tree order, and Σ over a channel of an NCHW tensor split among blocks (deterministic).
#pragma once

#include <stdexcept>

#include "spikefuse/config.hpp"

namespace spikefuse::cuda {

inline constexpr int reduce_threads = 256;

#ifdef __CUDACC__
/// Sum of `value` over a block of reduce_threads threads, returned to every thread. `shared` holds
/// reduce_threads doubles; consecutive calls may reuse it (the last barrier protects it).
__device__ inline double block_sum(double value, double* shared) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int half = reduce_threads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}
#endif

/// Element j of channel c (j < batch·plane) in an NCHW tensor. The shape is a template argument, so
/// the division and modulo are by constants (multiplies and shifts), in 32 bits: the H200 profile
/// showed these kernels slow with run-time 64-bit ones. Summation order is unchanged.
template <int Channels, int Plane>
SF_HOST_DEVICE constexpr long long channel_element(int j, int c) {
  return (static_cast<long long>(j / Plane) * Channels + c) * Plane + j % Plane;
}

/// batch·plane elements per channel are counted in 32 bits, by loops that step reduce_threads at a time.
inline void check_channel_count(int batch, long long plane) {
  if (static_cast<long long>(batch) * plane > 2147483647LL - reduce_threads)
    throw std::length_error("spikefuse: a channel has 2^31 or more elements per batch; use a smaller batch");
}

// ---- a channel split among blocks ------------------------------------------------------------------
//
// One block per channel left most of an H200 idle: ResNet-18's first stage has 64 channels of 131,072
// elements at batch 128, and its BatchNorm kernels ran 200-250 µs each (17 % of the step). A channel
// is now cut into `parts` contiguous ranges, one block each; every block adds its range into one
// partial sum, and the last block of the channel to finish adds the partials in part order. The
// result depends on the split, never on which block finishes first.

inline constexpr int channel_max_parts = 64;                      // partial sums kept per channel
inline constexpr int channel_part_granule = 32;                   // a warp's worth of a channel's elements per granule
inline constexpr int channel_part_min_elements = 16 * reduce_threads;  // each thread adds 16 or more
inline constexpr int channel_target_blocks = 1024;                // several blocks per SM on an H100/H200

/// Range `part` of a channel's `count` elements: [begin(part), end(part, count)).
struct channel_split {
  int parts = 1;
  int per_part = 0;  // a multiple of channel_part_granule; the last range may be shorter

  SF_HOST_DEVICE constexpr int begin(int part) const { return part * per_part; }
  SF_HOST_DEVICE constexpr int end(int part, int count) const {
    const long long e = static_cast<long long>(part + 1) * per_part;
    return e < count ? static_cast<int>(e) : count;
  }

  /// `count` elements in at most `wanted` ranges (1 ≤ wanted ≤ channel_max_parts), none empty.
  static constexpr channel_split into(long long count, int wanted) {
    if (count <= 0) return {1, 0};
    if (wanted < 1) wanted = 1;
    if (wanted > channel_max_parts) wanted = channel_max_parts;
    long long per = (count + wanted - 1) / wanted;
    per = (per + channel_part_granule - 1) / channel_part_granule * channel_part_granule;
    return {static_cast<int>((count + per - 1) / per), static_cast<int>(per)};
  }
};

/// The split the layers use: enough blocks over all `channels` to fill the GPU (about
/// channel_target_blocks), but ranges of channel_part_min_elements or more on average (the last one
/// may be shorter), so a large channel count or a small plane keeps one block per channel.
constexpr channel_split split_channel(long long count, int channels) {
  const long long to_fill = (channel_target_blocks + channels - 1) / (channels > 0 ? channels : 1);
  const long long by_size = count / channel_part_min_elements;
  const long long wanted = to_fill < by_size ? to_fill : by_size;
  return channel_split::into(count, static_cast<int>(wanted < channel_max_parts ? wanted : channel_max_parts));
}

/// Σ(x − μ)² and μ of n values from their sums about a shift K, Σd and Σd² with d = x − K:
/// Σ(x − μ)² = Σd² − (Σd)²/n, exact in real arithmetic. With K one of the values (the channel's
/// first element) the cancellation is that of the data's spread, not of its mean: in double, far
/// below a float's rounding, so one pass over the data replaces the two of the textbook formula.
struct shifted_moments {
  double mean;
  double squares;  // Σ(x − μ)², never negative
};
SF_HOST_DEVICE constexpr shifted_moments moments_from_shifted_sums(double shift, double sum, double sum_squares, double n) {
  const double squares = sum_squares - sum * sum / n;
  return {shift + sum / n, squares > 0.0 ? squares : 0.0};
}

/// Device memory of the channel reductions, shared by every layer of a model: the kernels of one
/// model run in stream order, and each reduction leaves its arrival counters at zero again.
struct channel_workspace {
  static constexpr int values = 2;  // sums per element at most (BatchNorm: Σd and Σd², Σ∂y and Σ∂y·(x − μ))
  double* partials = nullptr;       // [channels × channel_max_parts × values]
  double* totals = nullptr;         // [channels × values]: the channel sums of the last reduction
  unsigned* arrivals = nullptr;     // [channels], zero between launches
  int channels = 0;                 // capacity

  static constexpr long long partial_doubles(int channels) {
    return static_cast<long long>(channels) * channel_max_parts * values;
  }
  static constexpr long long total_doubles(int channels) { return static_cast<long long>(channels) * values; }

  /// A launch over `channels` channels fits.
  void check_fits(int needed) const {
    if (needed > channels)
      throw std::logic_error("spikefuse: internal: the channel-reduction workspace is smaller than a layer's channels");
  }
};

#ifdef __CUDACC__
/// f(offset) for the NCHW offset of every element of this block's range of channel blockIdx.y, this
/// thread's share (every reduce_threads-th), on a grid of (parts, channels) blocks (channel_grid).
template <int Channels, int Plane, class F>
__device__ void for_each_in_range(const channel_split& split, int batch, F&& f) {
  const int c = blockIdx.y, part = blockIdx.x;
  for (int j = split.begin(part) + threadIdx.x, end = split.end(part, batch * Plane); j < end; j += reduce_threads)
    f(channel_element<Channels, Plane>(j, c));
}

/// Adds the block's N per-thread `sums` of its range to the channel's partials.
/// Returns true in the channel's last block to finish (uniform within the block); there every
/// thread's `sums` holds the channel totals, added in part order, and workspace.totals[c] too.
/// Launched on a grid of (parts, channels) blocks (channel_grid), part = blockIdx.x, c = blockIdx.y:
/// the count of arrivals that makes a block last is the grid's, so a counter always re-arms.
template <int N>
__device__ bool channel_reduce(double (&sums)[N], const channel_workspace& w, double* shared) {
  static_assert(N >= 1 && N <= channel_workspace::values);
  __shared__ bool last;
  const int c = blockIdx.y, part = blockIdx.x, parts = gridDim.x;
  for (int k = 0; k < N; ++k) sums[k] = block_sum(sums[k], shared);
  if (parts == 1) {
    if (threadIdx.x == 0)
      for (int k = 0; k < N; ++k) w.totals[c * N + k] = sums[k];
    return true;
  }
  double* mine = w.partials + (static_cast<long long>(c) * channel_max_parts + part) * N;
  if (threadIdx.x == 0) {
    for (int k = 0; k < N; ++k) mine[k] = sums[k];
    __threadfence();  // the partial is visible device-wide before this block reports its arrival
    last = atomicAdd(&w.arrivals[c], 1u) == static_cast<unsigned>(parts - 1);
  }
  __syncthreads();
  if (!last) return false;
  if (threadIdx.x == 0) {
    __threadfence();  // order the partial-sum reads after the arrival that made this block last
    const double* all = w.partials + static_cast<long long>(c) * channel_max_parts * N;
    for (int k = 0; k < N; ++k) {
      double total = 0.0;
      for (int p = 0; p < parts; ++p) total += __ldcg(all + p * N + k);
      w.totals[c * N + k] = total;
      shared[k] = total;
    }
    w.arrivals[c] = 0;  // ready for the next launch or graph replay
  }
  __syncthreads();
  for (int k = 0; k < N; ++k) sums[k] = shared[k];
  __syncthreads();  // `shared` may be reused by the caller
  return true;
}

/// The grid of a channel reduction: (ranges, channels), checked against what the workspace and a
/// grid's y extent hold.
template <int Channels>
dim3 channel_grid(const channel_split& split, const channel_workspace& workspace) {
  static_assert(Channels >= 1 && Channels <= 65535, "spikefuse: a layer has more channels than a CUDA grid's y extent");
  workspace.check_fits(Channels);
  if (split.parts < 1 || split.parts > channel_max_parts)
    throw std::logic_error("spikefuse: internal: a channel split into more ranges than the workspace keeps");
  return dim3(static_cast<unsigned>(split.parts), static_cast<unsigned>(Channels));
}
#endif

}  // namespace spikefuse::cuda
