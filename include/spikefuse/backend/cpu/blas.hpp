// C = α·op(A)·op(B) + β·C on row-major float matrices through CBLAS (OpenBLAS).
#pragma once

#include <spikefuse/backend/cpu/blas_kernels.hpp>

#include <cblas.h>

namespace spikefuse::cpu {

enum class transpose { no, yes };

/// Row-major GEMM: C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C.
inline void gemm(transpose ta, transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta == transpose::yes ? CblasTrans : CblasNoTrans,
              tb == transpose::yes ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace spikefuse::cpu
