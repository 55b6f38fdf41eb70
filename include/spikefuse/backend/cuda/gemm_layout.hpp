// Row-major C[M×N] = α·op(A)·op(B) + β·C expressed for a column-major BLAS (cuBLAS): Cᵀ = op(B)ᵀ·op(A)ᵀ, same pointers and leading dimensions.
//
// Plain C++ (no CUDA), so that the host tests check the mapping against a column-major CBLAS call.
#pragma once

namespace spikefuse::cuda {

/// Arguments of one column-major GEMM call: C[m×n] = alpha·op(A)[m×k]·op(B)[k×n] + beta·C.
struct colmajor_gemm {
  bool trans_a, trans_b;
  int m, n, k;
  float alpha;
  const float* a;
  int lda;
  const float* b;
  int ldb;
  float beta;
  float* c;
  int ldc;
};

/// The column-major call computing the row-major product C[M×N] = α·op(A)[M×K]·op(B)[K×N] + β·C:
/// a row-major matrix is its transpose in column-major order, so the operands swap places.
constexpr colmajor_gemm row_major_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                                       int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  return colmajor_gemm{trans_b, trans_a, N, M, K, alpha, B, ldb, A, lda, beta, C, ldc};
}

}  // namespace spikefuse::cuda
