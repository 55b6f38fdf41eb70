// CUDA pooling: y = mean or max of x over each window, one thread per output (spikes and, on OTTT, the trace); ∂x gathered per input pixel from the windows that contain it.
//
// The backward gathers instead of scattering: input pixel q sums, in output order, the shares of the
// windows containing q (average), or the gradients of the windows whose first maximum is q (max).
// That is the CPU loop's order of additions, with no atomics.
#pragma once

#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/layer/pooling.hpp"

namespace spikefuse::cuda {

template <class Pool, class In, class Out>
struct pool_forward_op {
  const float* in;
  float* out;
  __device__ void operator()(long long i) const {
    using W = pooling::windows_of<Pool, In, Out>;
    constexpr int out_plane = Out::dims.h * Out::dims.w;
    const long long p = i / out_plane;
    const int oy = static_cast<int>((i % out_plane) / Out::dims.w), ox = static_cast<int>(i % Out::dims.w);
    const float* src = in + p * (In::dims.h * In::dims.w);
    const pooling::window r = W::rows(oy), c = W::cols(ox);
    if constexpr (W::is_max) {
      out[i] = src[pooling::window_argmax(src, In::dims.w, r, c)];
    } else {
      float sum = 0.f;
      for (int y = r.begin; y < r.end; ++y)
        for (int x = c.begin; x < c.end; ++x) sum += src[y * In::dims.w + x];
      out[i] = W::average(sum, r, c);
    }
  }
};

/// Outputs along one axis whose window contains input position q: [first, last].
template <class Pool>
__device__ inline void windows_containing(int q, int in, int out, int& first, int& last) {
  if constexpr (requires { Pool::out_h; }) {
    first = 0;  // adaptive windows overlap irregularly: test them all (the output grid is small)
    last = out - 1;
  } else {
    const int hi = (q + Pool::padding) / Pool::stride;
    const int lo_num = q + Pool::padding - Pool::kernel + 1;
    const int lo = lo_num <= 0 ? 0 : (lo_num + Pool::stride - 1) / Pool::stride;
    first = lo;
    last = hi < out - 1 ? hi : out - 1;
  }
}

template <class Pool, class In, class Out>
struct pool_backward_op {
  const float* in;
  const float* grad_out;
  float* grad_in;
  __device__ void operator()(long long i) const {
    using W = pooling::windows_of<Pool, In, Out>;
    constexpr int in_plane = In::dims.h * In::dims.w, out_plane = Out::dims.h * Out::dims.w;
    const long long p = i / in_plane;
    const int q = static_cast<int>(i % in_plane);
    const int y = q / In::dims.w, x = q % In::dims.w;
    const float* src = in + p * in_plane;
    const float* g = grad_out + p * out_plane;
    int oy0, oy1, ox0, ox1;
    windows_containing<Pool>(y, In::dims.h, Out::dims.h, oy0, oy1);
    windows_containing<Pool>(x, In::dims.w, Out::dims.w, ox0, ox1);
    float sum = 0.f;
    for (int oy = oy0; oy <= oy1; ++oy) {
      const pooling::window r = W::rows(oy);
      if (y < r.begin || y >= r.end) continue;
      for (int ox = ox0; ox <= ox1; ++ox) {
        const pooling::window c = W::cols(ox);
        if (x < c.begin || x >= c.end) continue;
        const float go = g[oy * Out::dims.w + ox];
        if constexpr (W::is_max) {
          if (pooling::window_argmax(src, In::dims.w, r, c) == q) sum += go;
        } else {
          sum += W::average(go, r, c);
        }
      }
    }
    grad_in[i] = sum;
  }
};

/// Launches nothing when the neuron before it does its work (Fusion::done_by_producer: lif.cuh,
/// backend/neuron_pool.hpp).
template <class Pool>
struct pool_layer_impl : stateless_layer {
  template <class In, class Out, class Fusion>
  static void forward(const context& ctx, int batch, phase ph, const device_buffers& in, device_buffers& b) {
    if constexpr (Fusion::done_by_producer) return;
    const long long n = static_cast<long long>(batch) * Out::size;
    launch_elementwise(ctx, n, pool_forward_op<Pool, In, Out>{in.out, b.out});
    if (Out::traced && is_training(ph)) launch_elementwise(ctx, n, pool_forward_op<Pool, In, Out>{in.out_trace, b.out_trace});
  }
  template <class In, class Out, class Fusion, bool GradToInput>
  static void backward(const context& ctx, int batch, device_buffers& in, const device_buffers& b) {
    if constexpr (GradToInput && !Fusion::done_by_producer)
      launch_elementwise(ctx, static_cast<long long>(batch) * In::size, pool_backward_op<Pool, In, Out>{in.out, b.grad_out, in.grad_out});
  }
};

template <int K, int S, int P>
struct layer_impl<AvgPool2d<K, S, P>> : pool_layer_impl<AvgPool2d<K, S, P>> {};
template <int K, int S, int P>
struct layer_impl<MaxPool2d<K, S, P>> : pool_layer_impl<MaxPool2d<K, S, P>> {};
template <int H, int W>
struct layer_impl<AdaptiveAvgPool2d<H, W>> : pool_layer_impl<AdaptiveAvgPool2d<H, W>> {};

}  // namespace spikefuse::cuda
