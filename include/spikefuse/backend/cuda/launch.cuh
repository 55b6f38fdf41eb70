// Launch plumbing of the CUDA backend: the context every layer enqueues on, an elementwise kernel over a functor, launch counting.
#pragma once

#include <cuda_runtime.h>

#include <vector>

#include "spikefuse/backend/cuda/blas.cuh"
#include "spikefuse/backend/cuda/error.cuh"
#include "spikefuse/backend/cuda/reduce.cuh"
#include "spikefuse/layer/conv_geometry.hpp"

namespace spikefuse::cuda {

inline constexpr int threads_per_block = 256;

/// Operations the host enqueued (what one graph replay runs), counted as they are issued.
struct launch_counter {
  int kernels = 0;
  int gemms = 0;
  int copies = 0;  // memset / memcpy nodes
  int total() const { return kernels + gemms + copies; }
};

/// Where a layer enqueues its work. Everything goes to one stream, in order.
class cudnn_convolutions;

struct context {
  cudaStream_t stream;
  const blas_handle* blas;
  launch_counter* launches;
  /// Store the spikes of a neuron whose Scale or pooling runs in its kernel (nothing else reads
  /// them; model_options::keep_fused_spikes, for inspection).
  bool keep_fused_spikes = false;
  /// Convolutions through cuDNN (model_options::convolutions), or null: im2col + cuBLAS.
  const cudnn_convolutions* cudnn = nullptr;
  /// The model's workspace for channel sums split among blocks (BatchNorm, a convolution's bias gradient).
  channel_workspace reduction = {};
  /// Floats of the im2col column buffer (model_options::im2col_chunk_mib): how many samples a chunk lowers.
  long long im2col_chunk_floats = conv_geometry::default_chunk_floats;

  void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
            float beta, float* C, int ldc) const {
    blas->gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    ++launches->gemms;
  }
  void zero(float* p, long long count) const {
    if (count <= 0) return;
    SF_CUDA_CHECK(cudaMemsetAsync(p, 0, static_cast<std::size_t>(count) * sizeof(float), stream));
    ++launches->copies;
  }
  void copy(float* to, const float* from, long long count) const {
    if (count <= 0) return;
    SF_CUDA_CHECK(cudaMemcpyAsync(to, from, static_cast<std::size_t>(count) * sizeof(float), cudaMemcpyDeviceToDevice, stream));
    ++launches->copies;
  }
  /// Host → device, complete when this returns (the host buffer may be reused at once). Not for graphs.
  void upload_now(float* to, const std::vector<float>& from) const {
    if (from.empty()) return;
    SF_CUDA_CHECK(cudaMemcpyAsync(to, from.data(), from.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
    SF_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void kernel_launched() const {
    SF_CUDA_CHECK(cudaGetLastError());
    ++launches->kernels;
  }
};

inline unsigned blocks_for(long long work_items) {
  return static_cast<unsigned>((work_items + threads_per_block - 1) / threads_per_block);
}

/// op(i) for i < n, one thread each. Ops are small structs with a __device__ operator()(long long).
template <class Op>
__global__ void __launch_bounds__(threads_per_block) elementwise_kernel(long long n, Op op) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) op(i);
}

template <class Op>
void launch_elementwise(const context& ctx, long long n, const Op& op) {
  if (n <= 0) return;
  elementwise_kernel<<<blocks_for(n), threads_per_block, 0, ctx.stream>>>(n, op);
  ctx.kernel_launched();
}

/// out[i] = a[i] + b[i] (a residual add; a second share of a gradient, with out = a).
struct add_op {
  const float* a;
  const float* b;
  float* out;
  __device__ void operator()(long long i) const { out[i] = a[i] + b[i]; }
};

/// v[i] = value: the start of a sequence when v_init ≠ 0 (a hard reset to a nonzero V_r).
struct fill_op {
  float* out;
  float value;
  __device__ void operator()(long long i) const { out[i] = value; }
};

}  // namespace spikefuse::cuda
