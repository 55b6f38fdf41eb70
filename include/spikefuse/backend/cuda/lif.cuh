// Fused CUDA LIF step: forward h = charge(v, z + b), s, v, â, ψ in one pass; backward ∂z = ∂s·ψ (/τ) and db += Σ_batch ∂z in one pass.
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
#pragma once

#include <cuda_runtime.h>

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/neuron_pool.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif.hpp"
#include "spikefuse/neuron/lif_math.hpp"

namespace spikefuse::cuda {

inline constexpr int lif_elements_per_thread = 4;  // one float4 of every operand

// ---- forward ------------------------------------------------------------------------------------

template <class Neuron, long long Features, bool KeepTrace, bool KeepPsi, bool AddBias>
__device__ __forceinline__ float lif_forward_one(long long i, float x, const float* __restrict__ bias, float& v,
                                                 float& trace, float& psi) {
  if constexpr (AddBias) x += __ldg(bias + i % Features);
  return lif::fused_forward<Neuron::params, typename Neuron::surrogate_type, KeepTrace, KeepPsi>(x, v, trace, psi);
}

/// Four consecutive elements per thread with 16-byte loads and stores; every buffer is 256-byte
/// aligned (device_arena), so only the last thread may take the scalar tail.
template <class Neuron, long long Features, bool KeepTrace, bool KeepPsi, bool AddBias, bool Scaled>
__global__ void __launch_bounds__(threads_per_block)
    lif_forward_kernel(long long n, const float* __restrict__ x, const float* __restrict__ bias, float* __restrict__ v,
                       float* __restrict__ trace, float* __restrict__ spike, float* __restrict__ psi, float scale,
                       float* __restrict__ scaled_spike, float* __restrict__ scaled_trace) {
  const long long first = lif_elements_per_thread * (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x);
  if (first >= n) return;
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
      if constexpr (KeepTrace)
        *reinterpret_cast<float4*>(scaled_trace + first) = float4{t4.x * scale, t4.y * scale, t4.z * scale, t4.w * scale};
    }
    return;
  }
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
      if constexpr (KeepTrace) scaled_trace[i] = t * scale;
    }
  }
}

inline unsigned lif_blocks(long long n) {
  const long long threads = (n + lif_elements_per_thread - 1) / lif_elements_per_thread;
  return blocks_for(threads);
}

/// A Scale<c> that directly follows the neuron, computed by the neuron's kernels: forward writes c·s
/// and (OTTT training) c·â into the Scale's buffers, backward reads the Scale's ∂out and multiplies
/// by c first: the Scale layer's own arithmetic, without its kernels.
struct fused_scale {
  float factor = 1.f;
  float* out = nullptr;
  float* out_trace = nullptr;
};

/// Calls launch.template operator()<KeepTrace, KeepPsi>() for the phase: the trace advances in
/// training phases of an OTTT neuron; ψ is kept only when a backward follows.
template <class Neuron, class Launch>
void with_kept_state(phase ph, Launch&& launch) {
  const bool keep_trace = Neuron::keeps_trace && is_training(ph);
  const bool keep_psi = ph == phase::train;
  if (keep_trace && keep_psi) {
    launch.template operator()<true, true>();
  } else if (keep_psi) {
    launch.template operator()<false, true>();
  } else if (keep_trace) {
    launch.template operator()<true, false>();
  } else {
    launch.template operator()<false, false>();
  }
}

/// One forward step of `n` = batch × Features neurons. The trace advances in training phases of an
/// OTTT neuron; ψ is kept only when a backward follows; `bias` (per feature) is added to x when given.
template <class Neuron, long long Features, bool Scaled = false>
void lif_forward(const context& ctx, phase ph, long long n, const float* x, const float* bias, float* v, float* trace,
                 float* spike, float* psi, fused_scale scale = {}) {
  if (n <= 0) return;
  with_kept_state<Neuron>(ph, [&]<bool KeepTrace, bool KeepPsi>() {
    if (bias) {
      lif_forward_kernel<Neuron, Features, KeepTrace, KeepPsi, true, Scaled><<<lif_blocks(n), threads_per_block, 0, ctx.stream>>>(
          n, x, bias, v, trace, spike, psi, scale.factor, scale.out, scale.out_trace);
    } else {
      lif_forward_kernel<Neuron, Features, KeepTrace, KeepPsi, false, Scaled><<<lif_blocks(n), threads_per_block, 0, ctx.stream>>>(
          n, x, bias, v, trace, spike, psi, scale.factor, scale.out, scale.out_trace);
    }
  });
  ctx.kernel_launched();
}

// ---- backward -----------------------------------------------------------------------------------

/// ∂x = ∂s·ψ (/τ), four elements per thread. Overwrites grad_x.
template <class Neuron, bool Scaled>
__global__ void __launch_bounds__(threads_per_block)
    lif_backward_kernel(long long n, const float* __restrict__ grad_spike, const float* __restrict__ psi,
                        float* __restrict__ grad_x, float scale) {
  constexpr lif_params P = Neuron::params;
  const long long first = lif_elements_per_thread * (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x);
  if (first >= n) return;
  if (first + lif_elements_per_thread <= n) {
    float4 g = *reinterpret_cast<const float4*>(grad_spike + first);
    if constexpr (Scaled) g = float4{g.x * scale, g.y * scale, g.z * scale, g.w * scale};
    const float4 p = *reinterpret_cast<const float4*>(psi + first);
    float4 out;
    out.x = lif::input_grad<P>(g.x, p.x);
    out.y = lif::input_grad<P>(g.y, p.y);
    out.z = lif::input_grad<P>(g.z, p.z);
    out.w = lif::input_grad<P>(g.w, p.w);
    *reinterpret_cast<float4*>(grad_x + first) = out;
    return;
  }
  for (long long i = first; i < n; ++i) grad_x[i] = lif::input_grad<P>(Scaled ? grad_spike[i] * scale : grad_spike[i], psi[i]);
}

/// Tile of the bias-reducing backward: 32 features (one warp-row, coalesced) × 8 row lanes.
inline constexpr int bias_tile_features = 32;
inline constexpr int bias_tile_rows = 8;
/// At most this many row blocks per feature column: the size of the partial-sum workspace.
inline constexpr int bias_max_row_blocks = 64;

/// ∂x = ∂s·ψ (/τ) and grad_bias[f] += Σ_rows ∂x[row, f], in one pass. Each block sums its rows into
/// `partials`; the last block of a feature column to finish (arrival counter) adds the partials in
/// block order, so the result does not depend on scheduling, and re-arms the counter.
template <class Neuron, long long Features, bool Scaled>
__global__ void __launch_bounds__(bias_tile_features* bias_tile_rows)
    lif_backward_bias_kernel(int batch, int rows_per_block, const float* __restrict__ grad_spike,
                             const float* __restrict__ psi, float* __restrict__ grad_x, float* __restrict__ grad_bias,
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
      const float g = lif::input_grad<P>(Scaled ? grad_spike[i] * scale : grad_spike[i], psi[i]);
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

/// One backward step: grad_x = ∂s·ψ (/τ) (overwritten); when `grad_bias` is given also
/// grad_bias += Σ_batch grad_x (the bias of the Linear feeding this neuron).
/// With Scaled, `grad_spike` is the fused Scale's ∂out and is multiplied by `scale` first.
template <class Neuron, long long Features, bool Scaled = false>
void lif_backward(const context& ctx, int batch, const float* grad_spike, const float* psi, float* grad_x,
                  float* grad_bias, float* partials, unsigned* arrivals, float scale = 1.f) {
  const long long n = static_cast<long long>(batch) * Features;
  if (n <= 0) return;
  if (!grad_bias) {
    lif_backward_kernel<Neuron, Scaled><<<lif_blocks(n), threads_per_block, 0, ctx.stream>>>(n, grad_spike, psi, grad_x, scale);
    ctx.kernel_launched();
    return;
  }
  // Enough row blocks to fill the GPU for large batches, at most bias_max_row_blocks.
  int rows_per_block = bias_tile_rows;
  while ((batch + rows_per_block - 1) / rows_per_block > bias_max_row_blocks) rows_per_block += bias_tile_rows;
  const dim3 grid(static_cast<unsigned>(bias_arrival_counters(Features)),
                  static_cast<unsigned>((batch + rows_per_block - 1) / rows_per_block));
  const dim3 block(bias_tile_features, bias_tile_rows);
  lif_backward_bias_kernel<Neuron, Features, Scaled><<<grid, block, 0, ctx.stream>>>(
      batch, rows_per_block, grad_spike, psi, grad_x, grad_bias, partials, arrivals, scale);
  ctx.kernel_launched();
}

// ---- with the average pooling after it ---------------------------------------------------------

template <class Neuron, class Tiling, bool KeepTrace, bool KeepPsi>
struct lif_pool_forward_op {
  neuron_pool::forward_buffers buffers;
  float scale;
  __device__ void operator()(long long tile) const {
    neuron_pool::forward_tile<Neuron, Tiling, KeepTrace, KeepPsi>(tile, buffers, scale);
  }
};

/// One forward step of `planes` = batch × channels planes, one thread per pooling window (tiles past
/// the last window included): the neuron state at full resolution, only the pooled c·s and c·â out.
template <class Neuron, class Tiling>
void lif_pool_forward(const context& ctx, phase ph, long long planes, const neuron_pool::forward_buffers& b, float scale) {
  const long long tiles = planes * Tiling::tiles_per_plane;
  if (tiles <= 0) return;
  with_kept_state<Neuron>(ph, [&]<bool KeepTrace, bool KeepPsi>() {
    launch_elementwise(ctx, tiles, lif_pool_forward_op<Neuron, Tiling, KeepTrace, KeepPsi>{b, scale});
  });
}

template <class Neuron, class Tiling>
struct lif_pool_backward_op {
  const float* grad_pooled;
  const float* psi;
  float* grad_x;
  float scale;
  __device__ void operator()(long long i) const {
    grad_x[i] = neuron_pool::input_grad_at<Neuron, Tiling>(i, grad_pooled, psi, scale);
  }
};

/// One backward step, one thread per neuron: ∂x from the pooled ∂y (overwrites grad_x). The full
/// resolution ∂s is never stored.
template <class Neuron, class Tiling>
void lif_pool_backward(const context& ctx, long long planes, const float* grad_pooled, const float* psi, float* grad_x,
                       float scale) {
  launch_elementwise(ctx, planes * Tiling::in_plane, lif_pool_backward_op<Neuron, Tiling>{grad_pooled, psi, grad_x, scale});
}

}  // namespace spikefuse::cuda
