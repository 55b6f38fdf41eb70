// The CUDA backend's row-major → column-major GEMM mapping (backend/cuda/gemm_layout.hpp), checked on the
// host: the column-major call it produces, run by CBLAS, must equal the row-major product for every
// transpose combination the layers use and for leading dimensions wider than the matrices.
#define BOOST_TEST_MODULE gemm_layout
#include <boost/test/unit_test.hpp>

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "spikefuse/backend/cuda/gemm_layout.hpp"
#include "support/reference_gemm.hpp"

namespace {

void run_colmajor(const spikefuse::cuda::colmajor_gemm& g) {
  cblas_sgemm(CblasColMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans, g.m, g.n, g.k,
              g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc);
}

}  // namespace

BOOST_AUTO_TEST_CASE(row_major_mapping_matches_the_product_for_every_transpose) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int M = 5, N = 7, K = 3, pad = 2;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (float beta : {0.f, 1.f}) {
        // op(A) is M×K: stored K×M when transposed. Leading dimensions wider than needed.
        const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
        std::vector<float> A(static_cast<std::size_t>(ta ? K : M) * lda), B(static_cast<std::size_t>(tb ? N : K) * ldb);
        std::vector<float> C(static_cast<std::size_t>(M) * ldc);
        for (auto& x : A) x = u(rng);
        for (auto& x : B) x = u(rng);
        for (auto& x : C) x = u(rng);
        std::vector<float> want = C;
        spikefuse::testing::reference_gemm(ta, tb, M, N, K, 0.5, A.data(), lda, B.data(), ldb, beta, want.data(), ldc);
        run_colmajor(spikefuse::cuda::row_major_gemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, beta, C.data(), ldc));
        // Absolute: entries are sums of K + 1 terms of size ≤ 1, so float rounding is ~1e-7 whatever
        // the entry's own size (a relative bound fails on entries that cancel to near zero).
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j)
            BOOST_CHECK_SMALL(C[static_cast<std::size_t>(i) * ldc + j] - want[static_cast<std::size_t>(i) * ldc + j], 1e-5f);
      }
}

BOOST_AUTO_TEST_CASE(linear_layer_calls_compute_forward_and_both_gradients) {
  // The three calls of cuda/linear.cuh on a batch of 3, 4 inputs, 2 outputs.
  const int B = 3, I = 4, O = 2;
  std::vector<float> x{1, 2, 3, 4, 0, 1, 0, 1, -1, 0, 2, 0};  // B×I
  std::vector<float> W{1, 0, -1, 2, 0.5f, 0.5f, 0.5f, 0.5f};  // O×I
  std::vector<float> z(B * O, 0.f);
  run_colmajor(spikefuse::cuda::row_major_gemm(false, true, B, O, I, 1.f, x.data(), I, W.data(), I, 0.f, z.data(), O));
  const std::vector<float> z_want{1 * 1 + 3 * -1 + 4 * 2, 5.f, 0 + 0 + 0 + 2, 1.f, -1 - 2, 0.5f};
  for (int i = 0; i < B * O; ++i) BOOST_CHECK_CLOSE(z[i], z_want[i], 1e-5);

  std::vector<float> g{1, 0, 0, 1, 2, -1};  // B×O, ∂L/∂z
  std::vector<float> dW(O * I, 1.f);        // accumulates: starts at 1
  run_colmajor(spikefuse::cuda::row_major_gemm(true, false, O, I, B, 1.f, g.data(), O, x.data(), I, 1.f, dW.data(), I));
  for (int o = 0; o < O; ++o)
    for (int i = 0; i < I; ++i) {
      float want = 1.f;
      for (int b = 0; b < B; ++b) want += g[b * O + o] * x[b * I + i];
      BOOST_CHECK_CLOSE(dW[o * I + i], want, 1e-5);
    }

  std::vector<float> dx(B * I, 9.f);  // overwritten (β = 0)
  run_colmajor(spikefuse::cuda::row_major_gemm(false, false, B, I, O, 1.f, g.data(), O, W.data(), I, 0.f, dx.data(), I));
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < I; ++i) {
      float want = 0.f;
      for (int o = 0; o < O; ++o) want += g[b * O + o] * W[o * I + i];
      BOOST_CHECK_SMALL(dx[b * I + i] - want, 1e-5f);
    }
}
