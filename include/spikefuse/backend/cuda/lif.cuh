// Fused CUDA LIF step: forward h = charge(v, z + b), s, v, â and ψ (or the spike bits) in one pass; backward ∂z = ∂s·ψ (/τ) and db += Σ_batch ∂z in one pass.
//
// Each element is read and written once per pass. The math is lif::fused_forward / lif::input_grad
// (neuron/lif_math.hpp), the same functions the CPU loops call; the neuron's τ, θ, reset and
// surrogate are template arguments, so they are immediates in the instruction stream.
//
// Kernels per neuron layer per step: 1 forward, 1 backward. When a Linear with bias feeds the neuron,
// the forward kernel adds the bias (the GEMM before it runs with β = 0) and the backward kernel
// reduces the bias gradient, deterministically (fixed summation order, no float atomics). When a
// Scale<c> directly follows the neuron, the same two kernels do its work too (fused_scale); when an
// average pooling follows (directly or after that Scale) and its windows tile the plane, the two
// kernels are lif_pool_forward / lif_pool_backward below, one thread per window forward.
// Spikes nothing reads (a fused layer reads them inside the kernel) are not stored: `spike` is null.
// What the backward needs is ψ, or after a soft reset one spike bit per neuron (neuron/surrogate_record.hpp):
// the lanes of a warp pack their bits into whole words with shuffles, so no word has two writers.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/neuron_pool.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif.hpp"
#include "spikefuse/neuron/lif_math.hpp"
#include "spikefuse/neuron/surrogate_record.hpp"

namespace spikefuse::cuda {

inline constexpr int lif_elements_per_thread = 4;  // one float4 of every operand

/// Packs BitsPerLane bits of every lane of a warp into 32-bit words: lane l's bits land at shift
/// (l mod 32/BitsPerLane)·BitsPerLane of its group's word, which every lane of the group returns.
/// All 32 lanes must call it (1-D blocks of a multiple of 32 threads, no lane returned early).
template <int BitsPerLane>
__device__ __forceinline__ std::uint32_t pack_warp_bits(std::uint32_t mine) {
  static_assert(BitsPerLane >= 1 && BitsPerLane <= 32 && 32 % BitsPerLane == 0);
  constexpr int lanes_per_word = 32 / BitsPerLane;
  const int lane = static_cast<int>(threadIdx.x & 31u);
  std::uint32_t word = lanes_per_word == 1 ? mine : mine << ((lane % lanes_per_word) * BitsPerLane);
#pragma unroll
  for (int d = 1; d < lanes_per_word; d *= 2) word |= __shfl_xor_sync(0xffffffffu, word, d);
  return word;
}

// ---- forward ------------------------------------------------------------------------------------

template <class Neuron, long long Features, bool KeepTrace, bool KeepPsi, bool AddBias>
__device__ __forceinline__ float lif_forward_one(long long i, float x, const float* __restrict__ bias, float& v,
                                                 float& trace, float& psi) {
  if constexpr (AddBias) x += __ldg(bias + i % Features);
  return lif::fused_forward<Neuron::params, typename Neuron::surrogate_type, KeepTrace, KeepPsi>(x, v, trace, psi);
}

/// Four consecutive elements per thread with 16-byte loads and stores; every buffer is 256-byte
/// aligned (device_arena), so only the last thread with elements takes the scalar tail (threads past
/// the end take it with none). Keep = spike_bits:
/// 8 lanes fill one word of 32 spikes; threads past the end take part with no bits.
template <class Neuron, long long Features, bool KeepTrace, lif::kept_for_backward Keep, bool AddBias, bool Scaled>
__global__ void __launch_bounds__(threads_per_block)
    lif_forward_kernel(long long n, const float* __restrict__ x, const float* __restrict__ bias, float* __restrict__ v,
                       float* __restrict__ trace, float* __restrict__ spike, float* __restrict__ psi,
                       lif::spike_word* __restrict__ spike_bits, float scale, float* __restrict__ scaled_spike,
                       float* __restrict__ scaled_trace) {
  constexpr bool KeepPsi = Keep == lif::kept_for_backward::psi;
  constexpr bool KeepBits = Keep == lif::kept_for_backward::spike_bits;
  const long long first = lif_elements_per_thread * (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x);
  std::uint32_t bits = 0;
  if (first + lif_elements_per_thread <= n) {
    const float4 x4 = *reinterpret_cast<const float4*>(x + first);
    float4 v4 = *reinterpret_cast<const float4*>(v + first);
    float4 t4{};
    if constexpr (KeepTrace) t4 = *reinterpret_cast<const float4*>(trace + first);
    float4 p4{};
    float4 s4;
    s4.x = lif_forward_one<Neuron, Features, KeepTrace, KeepPsi, AddBias>(first, x4.x, bias, v4.x, t4.x, p4.x);
    s4.y = lif_forward_one<Neuron, Features, KeepTrace, KeepPsi, AddBias>(first + 1, x4.y, bias, v4.y, t4.y, p4.y);
    s4.z = lif_forward_one<Neuron, Features, KeepTrace, KeepPsi, AddBias>(first + 2, x4.z, bias, v4.z, t4.z, p4.z);
    s4.w = lif_forward_one<Neuron, Features, KeepTrace, KeepPsi, AddBias>(first + 3, x4.w, bias, v4.w, t4.w, p4.w);
    if (spike) *reinterpret_cast<float4*>(spike + first) = s4;
    *reinterpret_cast<float4*>(v + first) = v4;
    if constexpr (KeepTrace) *reinterpret_cast<float4*>(trace + first) = t4;
    if constexpr (KeepPsi) *reinterpret_cast<float4*>(psi + first) = p4;
    if constexpr (Scaled) {
      *reinterpret_cast<float4*>(scaled_spike + first) = float4{s4.x * scale, s4.y * scale, s4.z * scale, s4.w * scale};
      if (KeepTrace && scaled_trace)
        *reinterpret_cast<float4*>(scaled_trace + first) = float4{t4.x * scale, t4.y * scale, t4.z * scale, t4.w * scale};
    }
    if constexpr (KeepBits)
      bits = static_cast<std::uint32_t>(s4.x != 0.f) | static_cast<std::uint32_t>(s4.y != 0.f) << 1 |
             static_cast<std::uint32_t>(s4.z != 0.f) << 2 | static_cast<std::uint32_t>(s4.w != 0.f) << 3;
  } else {
    for (long long i = first; i < n; ++i) {
      float t = KeepTrace ? trace[i] : 0.f;
      float p = 0.f;
      float vi = v[i];
      const float s_i = lif_forward_one<Neuron, Features, KeepTrace, KeepPsi, AddBias>(i, x[i], bias, vi, t, p);
      if (spike) spike[i] = s_i;
      v[i] = vi;
      if constexpr (KeepTrace) trace[i] = t;
      if constexpr (KeepPsi) psi[i] = p;
      if constexpr (Scaled) {
        scaled_spike[i] = s_i * scale;
        if (KeepTrace && scaled_trace) scaled_trace[i] = t * scale;
      }
      if constexpr (KeepBits) bits |= static_cast<std::uint32_t>(s_i != 0.f) << (i - first);
    }
  }
  if constexpr (KeepBits) {
    const std::uint32_t word = pack_warp_bits<lif_elements_per_thread>(bits);
    if (first < n && first % 32 == 0) spike_bits[first / 32] = word;
  }
}

inline unsigned lif_blocks(long long n) {
  const long long threads = (n + lif_elements_per_thread - 1) / lif_elements_per_thread;
  return blocks_for(threads);
}

/// A Scale<c> that directly follows the neuron, computed by the neuron's kernels: forward writes c·s
/// and (OTTT training, unless out_trace is null: the reader scales the trace state itself) c·â into
/// the Scale's buffers, backward reads the Scale's ∂out and multiplies by c first: the Scale layer's
/// own arithmetic, without its kernels.
struct fused_scale {
  float factor = 1.f;
  float* out = nullptr;
  float* out_trace = nullptr;
};

/// Calls launch.template operator()<KeepTrace, Keep>() for the phase: the trace advances in
/// training phases of an OTTT neuron; ψ or the spike bits (whichever `record` points to) are kept
/// only when a backward follows.
template <class Neuron, class Launch>
void with_kept_state(phase ph, const lif::surrogate_record& record, Launch&& launch) {
  using lif::kept_for_backward;
  const bool keep_trace = Neuron::keeps_trace && is_training(ph);
  auto with_trace = [&]<kept_for_backward Keep>() {
    if (keep_trace) {
      launch.template operator()<true, Keep>();
    } else {
      launch.template operator()<false, Keep>();
    }
  };
  switch (lif::kept_by<Neuron>(ph, record)) {
    case kept_for_backward::nothing:
      return with_trace.template operator()<kept_for_backward::nothing>();
    case kept_for_backward::psi:
      return with_trace.template operator()<kept_for_backward::psi>();
    case kept_for_backward::spike_bits:  // kept_by allows bits only where ψ follows from the state
      if constexpr (lif::psi_from_state_exact<Neuron::params>) return with_trace.template operator()<kept_for_backward::spike_bits>();
      return;
  }
}

/// One forward step of `n` = batch × Features neurons. The trace advances in training phases of an
/// OTTT neuron; ψ or the spike bits are kept only when a backward follows; `bias` (per feature) is
/// added to x when given.
template <class Neuron, long long Features, bool Scaled = false>
void lif_forward(const context& ctx, phase ph, long long n, const float* x, const float* bias, float* v, float* trace,
                 float* spike, lif::surrogate_record record, fused_scale scale = {}) {
  if (n <= 0) return;
  with_kept_state<Neuron>(ph, record, [&]<bool KeepTrace, lif::kept_for_backward Keep>() {
    if (bias) {
      lif_forward_kernel<Neuron, Features, KeepTrace, Keep, true, Scaled><<<lif_blocks(n), threads_per_block, 0, ctx.stream>>>(
          n, x, bias, v, trace, spike, record.psi, record.spike_bits, scale.factor, scale.out, scale.out_trace);
    } else {
      lif_forward_kernel<Neuron, Features, KeepTrace, Keep, false, Scaled><<<lif_blocks(n), threads_per_block, 0, ctx.stream>>>(
          n, x, bias, v, trace, spike, record.psi, record.spike_bits, scale.factor, scale.out, scale.out_trace);
    }
  });
  ctx.kernel_launched();
}

// ---- backward -----------------------------------------------------------------------------------

/// ∂x = ∂s·ψ (/τ), four elements per thread; ψ stored, or FromBits: from v and the spike bits.
/// Overwrites grad_x.
template <class Neuron, bool Scaled, bool FromBits>
__global__ void __launch_bounds__(threads_per_block)
    lif_backward_kernel(long long n, const float* __restrict__ grad_spike, lif::surrogate_source source,
                        float* __restrict__ grad_x, float scale) {
  constexpr lif_params P = Neuron::params;
  const long long first = lif_elements_per_thread * (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x);
  if (first >= n) return;
  if (first + lif_elements_per_thread <= n) {
    float4 g = *reinterpret_cast<const float4*>(grad_spike + first);
    if constexpr (Scaled) g = float4{g.x * scale, g.y * scale, g.z * scale, g.w * scale};
    float4 p;
    if constexpr (FromBits) {
      using S = typename Neuron::surrogate_type;
      const float4 v4 = *reinterpret_cast<const float4*>(source.v + first);
      const std::uint32_t bits = source.spike_bits[first >> 5] >> (first & 31);
      p = float4{lif::psi_from_state<P, S>(v4.x, bits & 1u), lif::psi_from_state<P, S>(v4.y, bits & 2u),
                 lif::psi_from_state<P, S>(v4.z, bits & 4u), lif::psi_from_state<P, S>(v4.w, bits & 8u)};
    } else {
      p = *reinterpret_cast<const float4*>(source.psi + first);
    }
    float4 out;
    out.x = lif::input_grad<P>(g.x, p.x);
    out.y = lif::input_grad<P>(g.y, p.y);
    out.z = lif::input_grad<P>(g.z, p.z);
    out.w = lif::input_grad<P>(g.w, p.w);
    *reinterpret_cast<float4*>(grad_x + first) = out;
    return;
  }
  for (long long i = first; i < n; ++i)
    grad_x[i] = lif::input_grad<P>(Scaled ? grad_spike[i] * scale : grad_spike[i], lif::psi_at<Neuron, FromBits>(source, i, i));
}

/// Tile of the bias-reducing backward: 32 features (one warp-row, coalesced) × 8 row lanes.
inline constexpr int bias_tile_features = 32;
inline constexpr int bias_tile_rows = 8;
/// At most this many row blocks per feature column: the size of the partial-sum workspace.
inline constexpr int bias_max_row_blocks = 64;

/// ∂x = ∂s·ψ (/τ) and grad_bias[f] += Σ_rows ∂x[row, f], in one pass. Each block sums its rows into
/// `partials`; the last block of a feature column to finish (arrival counter) adds the partials in
/// block order, so the result does not depend on scheduling, and re-arms the counter.
template <class Neuron, long long Features, bool Scaled, bool FromBits>
__global__ void __launch_bounds__(bias_tile_features* bias_tile_rows)
    lif_backward_bias_kernel(int batch, int rows_per_block, const float* __restrict__ grad_spike,
                             lif::surrogate_source source, float* __restrict__ grad_x, float* __restrict__ grad_bias,
                             float* __restrict__ partials, unsigned* __restrict__ arrivals, float scale) {
  constexpr lif_params P = Neuron::params;
  __shared__ float tile[bias_tile_rows][bias_tile_features + 1];
  __shared__ bool last_block;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const long long feature = static_cast<long long>(blockIdx.x) * bias_tile_features + tx;
  const int row_begin = blockIdx.y * rows_per_block;
  const int row_end = min(batch, row_begin + rows_per_block);
  float sum = 0.f;
  if (feature < Features) {
    for (int r = row_begin + ty; r < row_end; r += bias_tile_rows) {
      const long long i = static_cast<long long>(r) * Features + feature;
      const float g = lif::input_grad<P>(Scaled ? grad_spike[i] * scale : grad_spike[i], lif::psi_at<Neuron, FromBits>(source, i, i));
      grad_x[i] = g;
      sum += g;
    }
  }
  tile[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && feature < Features) {
    float block_sum = 0.f;
    for (int j = 0; j < bias_tile_rows; ++j) block_sum += tile[j][tx];
    partials[static_cast<long long>(blockIdx.y) * Features + feature] = block_sum;
    __threadfence();  // the partial is visible device-wide before this block reports its arrival
  }
  __syncthreads();
  if (tx == 0 && ty == 0) last_block = atomicAdd(&arrivals[blockIdx.x], 1u) == gridDim.y - 1;
  __syncthreads();
  if (!last_block) return;
  __threadfence();  // order the partial-sum reads after the arrival that made this block last
  if (ty == 0 && feature < Features) {
    float total = 0.f;
    for (unsigned b = 0; b < gridDim.y; ++b) total += __ldcg(&partials[static_cast<long long>(b) * Features + feature]);
    grad_bias[feature] += total;  // parameter gradients ACCUMULATE over the steps of a batch
  }
  if (tx == 0 && ty == 0) arrivals[blockIdx.x] = 0;  // ready for the next launch or graph replay
}

/// Workspace of lif_backward with a bias: partial sums and arrival counters for `features` features.
constexpr long long bias_partial_floats(long long features) { return bias_max_row_blocks * features; }
constexpr long long bias_arrival_counters(long long features) {
  return (features + bias_tile_features - 1) / bias_tile_features;
}

/// Calls launch.template operator()<FromBits>() for where `source` keeps ψ.
template <class Neuron, class Launch>
void with_surrogate_source(const lif::surrogate_source& source, Launch&& launch) {
  if (lif::psi_from_spike_bits<Neuron>(source)) {
    if constexpr (lif::psi_from_state_exact<Neuron::params>) launch.template operator()<true>();
    return;
  }
  launch.template operator()<false>();
}

/// One backward step: grad_x = ∂s·ψ (/τ) (overwritten); when `grad_bias` is given also
/// grad_bias += Σ_batch grad_x (the bias of the Linear feeding this neuron). ψ comes from `source`:
/// stored, or recomputed from the spike bits and the membrane (the state, as this step's forward left it).
/// With Scaled, `grad_spike` is the fused Scale's ∂out and is multiplied by `scale` first.
template <class Neuron, long long Features, bool Scaled = false>
void lif_backward(const context& ctx, int batch, const float* grad_spike, const lif::surrogate_source& source, float* grad_x,
                  float* grad_bias, float* partials, unsigned* arrivals, float scale = 1.f) {
  const long long n = static_cast<long long>(batch) * Features;
  if (n <= 0) return;
  if (!grad_bias) {
    with_surrogate_source<Neuron>(source, [&]<bool FromBits>() {
      lif_backward_kernel<Neuron, Scaled, FromBits><<<lif_blocks(n), threads_per_block, 0, ctx.stream>>>(n, grad_spike, source,
                                                                                                          grad_x, scale);
    });
    ctx.kernel_launched();
    return;
  }
  // Enough row blocks to fill the GPU for large batches, at most bias_max_row_blocks.
  int rows_per_block = bias_tile_rows;
  while ((batch + rows_per_block - 1) / rows_per_block > bias_max_row_blocks) rows_per_block += bias_tile_rows;
  const dim3 grid(static_cast<unsigned>(bias_arrival_counters(Features)),
                  static_cast<unsigned>((batch + rows_per_block - 1) / rows_per_block));
  const dim3 block(bias_tile_features, bias_tile_rows);
  with_surrogate_source<Neuron>(source, [&]<bool FromBits>() {
    lif_backward_bias_kernel<Neuron, Features, Scaled, FromBits><<<grid, block, 0, ctx.stream>>>(
        batch, rows_per_block, grad_spike, source, grad_x, grad_bias, partials, arrivals, scale);
  });
  ctx.kernel_launched();
}

// ---- with the average pooling after it ---------------------------------------------------------

/// One thread per tile; Keep = spike_bits: the tile's bits_per_tile bits, packed across the warp
/// into words of 32 / bits_per_tile tiles (threads past the last tile take part with none).
template <class Neuron, class Tiling, bool KeepTrace, lif::kept_for_backward Keep>
__global__ void __launch_bounds__(threads_per_block)
    lif_pool_forward_kernel(long long tiles, neuron_pool::forward_buffers buffers, lif::spike_word* __restrict__ spike_bits,
                            float scale) {
  const long long tile = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::uint32_t bits = 0;
  if (tile < tiles) bits = neuron_pool::forward_tile<Neuron, Tiling, KeepTrace, Keep>(tile, buffers, scale);
  if constexpr (Keep == lif::kept_for_backward::spike_bits) {
    constexpr int tiles_per_word = 32 / Tiling::bits_per_tile;
    const std::uint32_t word = pack_warp_bits<Tiling::bits_per_tile>(bits);
    if (tile < tiles && tile % tiles_per_word == 0) spike_bits[tile / tiles_per_word] = word;
  }
}

/// One forward step of `planes` = batch × channels planes, one thread per pooling window (tiles past
/// the last window included): the neuron state at full resolution, only the pooled c·s and c·â out.
/// ψ goes to b.psi, or the spike bits (numbered by tile, neuron_pool::tiling) to record.spike_bits.
template <class Neuron, class Tiling>
void lif_pool_forward(const context& ctx, phase ph, long long planes, const neuron_pool::forward_buffers& b,
                      lif::spike_word* spike_bits, float scale) {
  const long long tiles = planes * Tiling::tiles_per_plane;
  if (tiles <= 0) return;
  with_kept_state<Neuron>(ph, {b.psi, spike_bits}, [&]<bool KeepTrace, lif::kept_for_backward Keep>() {
    lif_pool_forward_kernel<Neuron, Tiling, KeepTrace, Keep><<<blocks_for(tiles), threads_per_block, 0, ctx.stream>>>(
        tiles, b, spike_bits, scale);
  });
  ctx.kernel_launched();
}

template <class Neuron, class Tiling, bool FromBits>
struct lif_pool_backward_op {
  const float* grad_pooled;
  lif::surrogate_source source;
  float* grad_x;
  float scale;
  __device__ void operator()(long long i) const {
    grad_x[i] = neuron_pool::input_grad_at<Neuron, Tiling, FromBits>(i, grad_pooled, source, scale);
  }
};

/// One backward step, one thread per neuron: ∂x from the pooled ∂y (overwrites grad_x). The full
/// resolution ∂s is never stored.
template <class Neuron, class Tiling>
void lif_pool_backward(const context& ctx, long long planes, const float* grad_pooled, const lif::surrogate_source& source,
                       float* grad_x, float scale) {
  with_surrogate_source<Neuron>(source, [&]<bool FromBits>() {
    launch_elementwise(ctx, planes * Tiling::in_plane,
                       lif_pool_backward_op<Neuron, Tiling, FromBits>{grad_pooled, source, grad_x, scale});
  });
}

}  // namespace spikefuse::cuda
