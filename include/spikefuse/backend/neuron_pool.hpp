// A neuron with the average pooling after it, in one pass: y[window] = avg_window(c·LIF(x)), and back ∂x = input_grad(c·∂y[window]/|window|, ψ).
//
// Shared by the backends' fused kernels: the CUDA neuron kernel runs forward_tile per window and
// input_grad_at per element when an AvgPool2d (or an AdaptiveAvgPool2d) follows a neuron, directly
// or through a Scale<c>. The operations, and their order, are those of the three layers run one after
// the other on the CPU (lif::fused_forward, then x·c, then the pooling's row-major window sum and
// division; back: the window's share, ·c, lif::input_grad), so fused and unfused results are equal
// to the last bit (tests/unit/test_neuron_pool.cpp).
#pragma once

#include <bit>
#include <cstdint>

#include "spikefuse/config.hpp"
#include "spikefuse/layer/pooling.hpp"
#include "spikefuse/neuron/lif_math.hpp"
#include "spikefuse/neuron/surrogate_record.hpp"

namespace spikefuse::neuron_pool {

/// One thread walks one window, so fused windows stay small (AvgPool2d up to 4×4).
inline constexpr int max_window_elements = 16;

/// How a pooling from port In to port Out tiles each plane: windows of tile_h × tile_w that neither
/// overlap nor reach into padding, so every neuron output feeds at most one window. The tiles cover
/// the whole plane; those past the last window (the rows and columns a floor-sized pooling drops)
/// run the neuron and feed no output.
template <class Pool, class In, class Out>
struct tiling {
  using windows = pooling::windows_of<Pool, In, Out>;
  static constexpr int in_h = In::dims.h, in_w = In::dims.w;
  static constexpr int out_h = Out::dims.h, out_w = Out::dims.w;

 private:
  static constexpr bool tiles_exactly = [] {
    if constexpr (windows::is_max) {
      return false;  // the backward would need the spikes' argmax: the unfused pooling keeps that
    } else if constexpr (windows::is_adaptive) {
      return out_h <= in_h && out_w <= in_w && in_h % out_h == 0 && in_w % out_w == 0;
    } else {
      return Pool::stride == Pool::kernel && Pool::padding == 0;
    }
  }();

 public:
  static constexpr int tile_h = [] {
    if constexpr (windows::is_adaptive) {
      return in_h / out_h;
    } else {
      return Pool::kernel;
    }
  }();
  static constexpr int tile_w = [] {
    if constexpr (windows::is_adaptive) {
      return in_w / out_w;
    } else {
      return Pool::kernel;
    }
  }();
  static constexpr bool fusable = tiles_exactly && tile_h * tile_w <= max_window_elements;
  static constexpr int tiles_h = tile_h > 0 ? (in_h + tile_h - 1) / tile_h : 0;
  static constexpr int tiles_w = tile_w > 0 ? (in_w + tile_w - 1) / tile_w : 0;
  static constexpr int tiles_per_plane = tiles_h * tiles_w;
  static constexpr int in_plane = in_h * in_w;
  static constexpr int out_plane = out_h * out_w;
  /// Spike bits are numbered by tile: tile k holds bits k·bits_per_tile … (row-major within the
  /// tile), a power of two so that whole tiles fill a 32-bit word.
  static constexpr int bits_per_tile = std::bit_ceil(static_cast<unsigned>(tile_h * tile_w > 0 ? tile_h * tile_w : 1));
  static constexpr long long spike_bits_per_plane = static_cast<long long>(tiles_per_plane) * bits_per_tile;
  static_assert(!fusable || bits_per_tile <= 32);
};

/// The buffers one fused forward step reads and writes: the neuron's (full resolution) and the
/// pooling's (pooled). `spikes` may be null: nothing else reads them. The spike bits are the
/// caller's to store (forward_tile returns a tile's).
struct forward_buffers {
  const float* x;
  float* v;
  float* trace;
  float* psi;
  float* spikes;
  float* pooled;
  float* pooled_trace;
};

/// The neuron step of every element of one tile (plane × tiles_per_plane + tile row-major), then
/// that window's average of c·s (and, with KeepTrace, of c·â). Keep = psi writes ψ; spike_bits
/// returns the tile's spikes, bit j for its j-th element row-major (bit k·bits_per_tile + j of the
/// layer's bits); otherwise 0.
template <class Neuron, class Tiling, bool KeepTrace, lif::kept_for_backward Keep>
SF_HOST_DEVICE std::uint32_t forward_tile(long long tile, const forward_buffers& b, float scale) {
  constexpr bool KeepPsi = Keep == lif::kept_for_backward::psi;
  using T = Tiling;
  const long long plane = tile / T::tiles_per_plane;
  const int within = static_cast<int>(tile % T::tiles_per_plane);
  const int ty = within / T::tiles_w, tx = within % T::tiles_w;
  const int y_end = (ty + 1) * T::tile_h < T::in_h ? (ty + 1) * T::tile_h : T::in_h;
  const int x_end = (tx + 1) * T::tile_w < T::in_w ? (tx + 1) * T::tile_w : T::in_w;
  float spike_sum = 0.f, trace_sum = 0.f;
  std::uint32_t bits = 0;
  for (int y = ty * T::tile_h; y < y_end; ++y) {
    for (int x = tx * T::tile_w; x < x_end; ++x) {
      const long long i = plane * T::in_plane + y * T::in_w + x;
      float v = b.v[i];
      float trace = KeepTrace ? b.trace[i] : 0.f;
      float psi = 0.f;
      const float s = lif::fused_forward<Neuron::params, typename Neuron::surrogate_type, KeepTrace, KeepPsi>(b.x[i], v, trace, psi);
      b.v[i] = v;
      if constexpr (KeepTrace) b.trace[i] = trace;
      if constexpr (KeepPsi) b.psi[i] = psi;
      if (b.spikes) b.spikes[i] = s;
      if constexpr (Keep == lif::kept_for_backward::spike_bits)
        bits |= static_cast<std::uint32_t>(s != 0.f) << ((y - ty * T::tile_h) * T::tile_w + (x - tx * T::tile_w));
      spike_sum += s * scale;
      if constexpr (KeepTrace) trace_sum += trace * scale;
    }
  }
  if (ty >= T::out_h || tx >= T::out_w) return bits;
  const pooling::window r = T::windows::rows(ty), c = T::windows::cols(tx);
  const long long o = plane * T::out_plane + ty * T::out_w + tx;
  b.pooled[o] = T::windows::average(spike_sum, r, c);
  if constexpr (KeepTrace) b.pooled_trace[o] = T::windows::average(trace_sum, r, c);
  return bits;
}

/// ∂L/∂x of element i (plane-major, full resolution) from the pooled gradient: its window's share,
/// times c, through the surrogate (ψ stored, or FromBits: from the tile-numbered spike bits and v).
/// An element outside every window gets a zero ∂s.
template <class Neuron, class Tiling, bool FromBits>
SF_HOST_DEVICE float input_grad_at(long long i, const float* grad_pooled, const lif::surrogate_source& source, float scale) {
  using T = Tiling;
  const long long plane = i / T::in_plane;
  const int q = static_cast<int>(i % T::in_plane);
  const int y = q / T::in_w, x = q % T::in_w;
  const int oy = y / T::tile_h, ox = x / T::tile_w;
  float share = 0.f;
  if (oy < T::out_h && ox < T::out_w)
    share = T::windows::average(grad_pooled[plane * T::out_plane + oy * T::out_w + ox], T::windows::rows(oy),
                                T::windows::cols(ox));
  const long long tile = plane * T::tiles_per_plane + oy * T::tiles_w + ox;
  const long long bit = tile * T::bits_per_tile + (y - oy * T::tile_h) * T::tile_w + (x - ox * T::tile_w);
  return lif::input_grad<Neuron::params>(share * scale, lif::psi_at<Neuron, FromBits>(source, i, bit));
}

}  // namespace spikefuse::neuron_pool
