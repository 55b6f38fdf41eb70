// cuBLAS GEMMs for the CUDA backend: fp32 by default (results match the CPU to float rounding), TF32 tensor cores opt-in.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string_view>
#include <stdexcept>
#include <string>

#include "spikefuse/backend/cuda/device_memory.cuh"
#include "spikefuse/backend/cuda/error.cuh"
#include "spikefuse/backend/cuda/gemm_layout.hpp"

namespace spikefuse::cuda {

enum class gemm_precision {
  fp32,  // IEEE fp32 products and sums: the CPU backend's numbers to float rounding
  tf32,  // tensor cores with 10-bit-mantissa inputs, fp32 accumulation: faster, ~1e-3 relative
};

inline gemm_precision parse_gemm_precision(std::string_view s) {
  if (s == "fp32") return gemm_precision::fp32;
  if (s == "tf32") return gemm_precision::tf32;
  throw std::invalid_argument("unknown precision '" + std::string(s) + "' (choose fp32 or tf32)");
}

/// A cuBLAS handle bound to one stream, with its own workspace so that GEMMs can be captured into a
/// CUDA graph (cuBLAS must not allocate during capture).
class blas_handle {
 public:
  static constexpr std::size_t workspace_bytes = 32u << 20;  // cuBLAS's recommendation for Hopper

  blas_handle(cudaStream_t stream, gemm_precision precision) : workspace_(workspace_bytes), precision_(precision) {
    SF_CUDA_CHECK(cublasCreate(&handle_));
    SF_CUDA_CHECK(cublasSetStream(handle_, stream));
    SF_CUDA_CHECK(cublasSetWorkspace(handle_, workspace_.data(), workspace_.bytes()));
    SF_CUDA_CHECK(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST));
  }
  blas_handle(const blas_handle&) = delete;
  blas_handle& operator=(const blas_handle&) = delete;
  ~blas_handle() { cublasDestroy(handle_); }

  gemm_precision precision() const { return precision_; }
  std::size_t allocated_bytes() const { return workspace_.bytes(); }

  /// Row-major C[M×N] = α·op(A)·op(B) + β·C (see gemm_layout.hpp).
  void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
            float beta, float* C, int ldc) const {
    const colmajor_gemm g = row_major_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    const cublasComputeType_t compute =
        precision_ == gemm_precision::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    SF_CUDA_CHECK(cublasGemmEx(handle_, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.m,
                               g.n, g.k, &g.alpha, g.a, CUDA_R_32F, g.lda, g.b, CUDA_R_32F, g.ldb, &g.beta, g.c,
                               CUDA_R_32F, g.ldc, compute, CUBLAS_GEMM_DEFAULT));
  }

 private:
  cublasHandle_t handle_{};
  device_array<unsigned char> workspace_;
  gemm_precision precision_;
};

}  // namespace spikefuse::cuda
