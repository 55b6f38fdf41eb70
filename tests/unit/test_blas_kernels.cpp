// OpenBLAS's kernels after spikefuse's start-up correction (backend/cpu/blas_kernels.hpp): on a CPU
// with AVX2 and FMA the GEMMs never run SSE3-only kernels unless the user asked for them through
// OPENBLAS_CORETYPE, and the library still computes C = α·op(A)·op(B) + β·C correctly after the switch.
// CTest runs this twice: as the environment is, and with OPENBLAS_CORETYPE=Prescott (the user's
// choice, which must stand).
#define BOOST_TEST_MODULE blas_kernels
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "spikefuse/backend/cpu/blas.hpp"
#include "support/reference_gemm.hpp"

namespace sfc = spikefuse::cpu;

namespace {

/// The GEMM with the kernels in use against a double-precision reference, for the transposes the
/// layers use and sizes from a few elements (edge tiles) to ones OpenBLAS splits among threads.
void check_gemm() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  struct size3 {
    int m, n, k;
  };
  for (const size3 s : {size3{1, 1, 1}, size3{3, 5, 7}, size3{67, 129, 33}, size3{256, 300, 288}, size3{512, 64, 4608}})
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        const int lda = ta ? s.m : s.k, ldb = tb ? s.k : s.n;
        std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n),
            c(static_cast<std::size_t>(s.m) * s.n);
        for (float& x : a) x = u(rng);
        for (float& x : b) x = u(rng);
        for (float& x : c) x = u(rng);
        std::vector<double> want(c.begin(), c.end());
        spikefuse::testing::reference_gemm(ta, tb, s.m, s.n, s.k, 0.5, a.data(), lda, b.data(), ldb, 1.0, want.data(), s.n);
        double norm = 0.0, err = 0.0;
        sfc::gemm(ta ? sfc::transpose::yes : sfc::transpose::no, tb ? sfc::transpose::yes : sfc::transpose::no, s.m, s.n,
                  s.k, 0.5f, a.data(), lda, b.data(), ldb, 1.f, c.data(), s.n);
        for (std::size_t i = 0; i < c.size(); ++i) {
          norm += want[i] * want[i];
          err += (c[i] - want[i]) * (c[i] - want[i]);
        }
        // fp32 accumulation over k terms: a normwise error of a few ulps times √k.
        BOOST_TEST(std::sqrt(err / norm) < 1e-6 * std::sqrt(static_cast<double>(s.k)) + 1e-6,
                   s.m << "x" << s.n << "x" << s.k << " ta=" << ta << " tb=" << tb << ": relative error "
                       << std::sqrt(err / norm) << " with " << openblas_get_corename() << " kernels");
      }
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_kernels_in_use_are_the_ones_reported) {
  const sfc::blas_kernels& k = sfc::blas_kernels_in_use;
  BOOST_TEST_MESSAGE("OpenBLAS: " << openblas_get_config() << "; " << k.describe());
  BOOST_TEST(sfc::detail::same_core(k.core, openblas_get_corename()));
}

BOOST_AUTO_TEST_CASE(no_sse_only_kernels_on_a_cpu_with_avx2_unless_asked_for) {
  const sfc::blas_kernels& k = sfc::blas_kernels_in_use;
  if (const char* user = std::getenv("OPENBLAS_CORETYPE")) {
    // The user's choice stands, even where it is slower.
    BOOST_TEST(!k.corrected());
    BOOST_TEST(sfc::detail::same_core(k.core, user));
    return;
  }
  const char* wanted = sfc::detail::core_for_cpu_features();
  if (wanted == nullptr || !sfc::detail::can_reselect()) {
    BOOST_TEST(!k.corrected(), "nothing to correct on this CPU or with this OpenBLAS build");
    return;
  }
  BOOST_TEST(!sfc::detail::is_sse_only_core(k.core), "OpenBLAS runs " << k.core << " kernels on a CPU that has " << wanted);
  if (k.corrected()) {
    BOOST_TEST(sfc::detail::is_sse_only_core(k.detected));
    BOOST_TEST(sfc::detail::same_core(k.core, wanted));
  }
}

BOOST_AUTO_TEST_CASE(core_names) {
  BOOST_TEST(sfc::detail::is_sse_only_core("Prescott"));
  BOOST_TEST(sfc::detail::is_sse_only_core("PRESCOTT"));
  BOOST_TEST(sfc::detail::is_sse_only_core("Nehalem"));
  BOOST_TEST(!sfc::detail::is_sse_only_core("Haswell"));
  BOOST_TEST(!sfc::detail::is_sse_only_core("SkylakeX"));
  BOOST_TEST(!sfc::detail::is_sse_only_core("Zen"));
  BOOST_TEST(!sfc::detail::is_sse_only_core("Prescot"));
  const sfc::blas_kernels same{"Haswell", "Haswell"};
  BOOST_TEST(same.describe() == "OpenBLAS Haswell kernels");
  const sfc::blas_kernels switched{"SkylakeX", "Prescott"};
  BOOST_TEST(switched.describe() == "OpenBLAS SkylakeX kernels (its detection chose SSE3-only Prescott on this CPU)");
}

BOOST_AUTO_TEST_CASE(gemm_is_right_with_the_kernels_in_use) { check_gemm(); }

// The switch itself, on every machine (where the library's detection is right, start-up switches
// nothing): OpenBLAS's selection re-run by hand to SSE3 kernels and back by the start-up rule,
// the GEMM right after each, and the user's environment untouched.
// Reported as skipped (not passed) with an OpenBLAS that cannot re-run its kernel selection.
static boost::test_tools::assertion_result openblas_can_reselect(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result can(sfc::detail::can_reselect());
  can.message() << "this OpenBLAS cannot re-run its kernel selection (not DYNAMIC_ARCH): nothing to switch";
  return can;
}

BOOST_AUTO_TEST_CASE(reselection_round_trip, *boost::unit_test::precondition(openblas_can_reselect)) {
  const char* given = std::getenv("OPENBLAS_CORETYPE");
  const std::string env_before = given != nullptr ? given : "<unset>";
  const sfc::blas_kernels& at_start = sfc::blas_kernels_in_use;

  sfc::detail::rerun_openblas_selection(nullptr);  // the library's own detection, as at load time
  if (given == nullptr) BOOST_TEST(sfc::detail::same_core(openblas_get_corename(), at_start.detected));

  sfc::detail::rerun_openblas_selection("Prescott");
  BOOST_TEST(sfc::detail::same_core(openblas_get_corename(), "Prescott"));
  check_gemm();

  const char* wanted = sfc::detail::core_for_cpu_features();
  if (wanted != nullptr) {
    sfc::detail::rerun_openblas_selection(wanted);
    BOOST_TEST(sfc::detail::same_core(openblas_get_corename(), wanted));
    check_gemm();
  }

  // Back to what start-up chose: its own detection, then the start-up rule.
  sfc::detail::rerun_openblas_selection(given);
  const sfc::blas_kernels again = sfc::detail::correct_blas_kernels();
  BOOST_TEST(again.core == at_start.core);
  BOOST_TEST(again.detected == at_start.detected);
  given = std::getenv("OPENBLAS_CORETYPE");
  BOOST_TEST((given != nullptr ? given : "<unset>") == env_before);
}
