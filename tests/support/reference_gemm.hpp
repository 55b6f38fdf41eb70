// Row-major GEMM written out, accumulated in double: C[i][j] = α Σ_p op(A)[i][p]·op(B)[p][j] + β C[i][j].
// The reference that tests of BLAS calls compare against; C may be float (rounded once) or double.
#pragma once

#include <cstddef>

namespace spikefuse::testing {

template <class Out>
void reference_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const float* a, int lda, const float* b,
                    int ldb, double beta, Out* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p) {
        const float a_ip = ta ? a[static_cast<std::size_t>(p) * lda + i] : a[static_cast<std::size_t>(i) * lda + p];
        const float b_pj = tb ? b[static_cast<std::size_t>(j) * ldb + p] : b[static_cast<std::size_t>(p) * ldb + j];
        sum += static_cast<double>(a_ip) * b_pj;
      }
      Out& out = c[static_cast<std::size_t>(i) * ldc + j];
      out = static_cast<Out>(alpha * sum + beta * static_cast<double>(out));
    }
}

}  // namespace spikefuse::testing
