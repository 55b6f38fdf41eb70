// Surrogates: g'(x) against central finite differences of the primitive g(x), the shared neuron math, and
// the host exp the surrogates evaluate.
#define BOOST_TEST_MODULE surrogate
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>

#include "spikefuse/neuron/lif.hpp"

namespace sf = spikefuse;
namespace sg = spikefuse::surrogate;

namespace {

/// Central difference in double of the float primitive, on a grid that avoids the kinks.
template <class S>
void check_against_primitive(double kink_margin, double rel_tol) {
  static_assert(S::has_primitive);
  int checked = 0;
  for (double x = -3.0; x <= 3.0; x += 0.0625 + 1e-3) {
    const double h = 1e-3;
    bool near_kink = false;
    for (const double k : {-1.0, -0.5, 0.0, 0.5, 1.0})
      near_kink |= std::fabs(x - k) < kink_margin;
    if (near_kink) continue;
    const double fd = (static_cast<double>(S::primitive(static_cast<float>(x + h))) -
                       static_cast<double>(S::primitive(static_cast<float>(x - h)))) /
                      (static_cast<double>(static_cast<float>(x + h)) - static_cast<double>(static_cast<float>(x - h)));
    const double d = S::derivative(static_cast<float>(x));
    BOOST_TEST_CONTEXT(S::name << " at x = " << x) { BOOST_TEST(std::fabs(fd - d) <= rel_tol * std::max(1.0, std::fabs(d))); }
    ++checked;
  }
  BOOST_TEST(checked > 40);
}

}  // namespace

BOOST_AUTO_TEST_CASE(derivatives_match_finite_differences_of_primitives) {
  // Float primitives: the difference quotient carries ~eps/h ≈ 1e-4 of rounding; 2e-3 covers it plus
  // the O(h²) truncation of the steepest surrogate (Sigmoid α = 4).
  constexpr double tol = 2e-3;
  constexpr double margin = 3e-3;  // piecewise surrogates switch formula at 0, ±1/α, ±w, ±0.5/α
  check_against_primitive<sg::PiecewiseQuadratic<>>(margin, tol);
  check_against_primitive<sg::PiecewiseQuadratic<2.f>>(margin, tol);
  check_against_primitive<sg::PiecewiseExp<>>(margin, tol);
  check_against_primitive<sg::Sigmoid<>>(margin, tol);
  check_against_primitive<sg::Sigmoid<1.f>>(margin, tol);
  check_against_primitive<sg::SoftSign<>>(margin, tol);
  check_against_primitive<sg::ATan<>>(margin, tol);
  check_against_primitive<sg::NonzeroSignLogAbs<>>(margin, tol);
  check_against_primitive<sg::Erf<>>(margin, tol);
  check_against_primitive<sg::PiecewiseLeakyReLU<>>(margin, tol);
  check_against_primitive<sg::SquarewaveFourierSeries<>>(margin, tol);
  check_against_primitive<sg::SquarewaveFourierSeries<4, 6.f>>(margin, tol);
  check_against_primitive<sg::S2NN<>>(margin, tol);
  check_against_primitive<sg::QPseudoSpike<>>(margin, tol);
  check_against_primitive<sg::LeakyKReLU<0.1f, 1.f>>(margin, tol);
  check_against_primitive<sg::LogTailedReLU<0.1f>>(margin, tol);
  check_against_primitive<sg::Rect<>>(margin, tol);
  check_against_primitive<sg::DeterministicPass>(margin, tol);
}

BOOST_AUTO_TEST_CASE(surrogates_without_primitive_follow_their_formula) {
  BOOST_TEST(sg::SuperSpike<>::derivative(0.f) == 1.f);
  BOOST_TEST(sg::SuperSpike<>::derivative(1.f) == 0.25f);
  BOOST_TEST(sg::FakeNumericalGradient<>::derivative(0.f) == 0.3f);  // x = 0 gives alpha
  BOOST_TEST(sg::FakeNumericalGradient<>::derivative(10.f) == 0.1f);
  BOOST_TEST(sg::FakeNumericalGradient<>::derivative(-1.f) == 0.3f);
}

BOOST_AUTO_TEST_CASE(default_parameters_are_spikingjellys) {
  BOOST_TEST(sg::Sigmoid<>::derivative(0.f) == 1.f);  // α/4 with α = 4
  BOOST_TEST(sg::ATan<>::derivative(0.f) == 1.f);     // α/2 with α = 2
  BOOST_TEST(sg::PiecewiseQuadratic<>::derivative(0.f) == 1.f);
  BOOST_TEST(sg::PiecewiseQuadratic<>::derivative(1.f) == 0.f);
  BOOST_TEST(sg::Rect<>::derivative(0.49f) == 1.f);
  BOOST_TEST(sg::Rect<>::derivative(0.5f) == 0.f);
  BOOST_TEST(sg::heaviside(0.f) == 1.f);  // ties fire
  BOOST_TEST(sg::heaviside(-1e-30f) == 0.f);
}

BOOST_AUTO_TEST_CASE(lif_charge_variants_and_resets) {
  constexpr sf::lif_params decay_hard{2.0, true, 1.0, sf::hard_reset(0.0)};
  constexpr sf::lif_params decay_hard_neg{2.0, true, 1.0, sf::hard_reset(-0.5)};
  constexpr sf::lif_params plain_soft{2.0, false, 1.0, sf::soft_reset};
  constexpr sf::lif_params plain_hard_neg{4.0, false, 1.0, sf::hard_reset(-0.5)};
  // h = v + (x − (v − V_r))/τ
  BOOST_TEST(sf::lif::charge<decay_hard>(0.5f, 1.5f) == 1.0f);
  BOOST_TEST(sf::lif::charge<decay_hard_neg>(0.5f, 1.5f) == 0.75f);
  // h = v − (v − V_r)/τ + x
  BOOST_TEST(sf::lif::charge<plain_soft>(0.5f, 0.25f) == 0.5f);
  BOOST_TEST(sf::lif::charge<plain_hard_neg>(0.5f, 0.25f) == 0.5f);
  // Fire on equality; hard reset to V_r; soft reset subtracts θ.
  const auto hard = sf::lif::step<decay_hard>(0.5f, 1.5f);
  BOOST_TEST(hard.spike == 1.f);
  BOOST_TEST(hard.v == 0.f);
  const auto soft = sf::lif::step<plain_soft>(0.5f, 1.0f);
  BOOST_TEST(soft.spike == 1.f);
  BOOST_TEST(soft.v == 0.25f);
  // Trace λ = 1 − 1/τ regardless of decay_input.
  BOOST_TEST(sf::lif::trace<plain_hard_neg>(1.f, 1.f) == 1.75f);
  // ∂x = ∂s·ψ/τ with decay_input, ∂s·ψ without.
  BOOST_TEST(sf::lif::input_grad<decay_hard>(1.f, 0.5f) == 0.25f);
  BOOST_TEST(sf::lif::input_grad<plain_soft>(1.f, 0.5f) == 0.5f);
}

BOOST_AUTO_TEST_CASE(class_defaults_differ_like_spikingjelly) {
  using O = sf::OTTTLIF<>;
  using S = sf::SLTTLIF<>;
  BOOST_TEST(O::params.tau == 2.0);
  BOOST_TEST(!O::params.decay_input);
  BOOST_TEST(O::params.reset.soft);
  BOOST_TEST(S::params.decay_input);
  BOOST_TEST(!S::params.reset.soft);
  BOOST_TEST(S::params.reset.v_reset == 0.0);
  BOOST_TEST(sf::SLTTPaperLIF::params.tau == 1.1);
  BOOST_TEST(!sf::SLTTPaperLIF::params.decay_input);
  BOOST_TEST(sf::SLTTPaperLIF::params.reset.soft);
  BOOST_TEST(sf::SLTTPaperLIF::surrogate_type::derivative(0.5f) == 0.5f);  // triangle
}

// math::exp on the host is spikefuse's own (core/math.hpp: glibc's expf does not vectorise). Each
// result must be the correctly rounded e^x or one of its two float neighbours, over the whole range
// where e^x is neither 0 nor inf, subnormal results included, and the edges must round like e^x.
static_assert(sf::math::exp(0.f) == 1.f);  // constexpr, like the neuron math that calls it

BOOST_AUTO_TEST_CASE(host_exp_is_within_one_ulp_of_the_correctly_rounded_value) {
  long long checked = 0, correctly_rounded = 0, beyond_one_ulp = 0;
  float first_beyond = 0.f;
  const float inf = std::numeric_limits<float>::infinity();
  // Every 997th float of [−110, 110]: about 2 million arguments, every exponent and mantissa pattern.
  for (std::uint64_t bits = 0; bits <= 0xffffffffull; bits += 997) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    if (!(std::fabs(x) <= 110.f)) continue;
    const float got = sf::math::exp(x);
    const float exact = static_cast<float>(std::exp(static_cast<double>(x)));
    ++checked;
    if (got == exact) {
      ++correctly_rounded;
      continue;
    }
    if (got != std::nextafter(exact, -inf) && got != std::nextafter(exact, inf)) {
      if (beyond_one_ulp++ == 0) first_beyond = x;
    }
  }
  BOOST_TEST(checked > 2'000'000);
  BOOST_TEST(beyond_one_ulp == 0, "first argument beyond one ulp: " << first_beyond);
  BOOST_TEST(correctly_rounded >= checked * 99 / 100);  // 99.2 % measured over every 7th float

  BOOST_TEST(sf::math::exp(-inf) == 0.f);
  BOOST_TEST(sf::math::exp(inf) == inf);
  BOOST_TEST(std::isnan(sf::math::exp(std::numeric_limits<float>::quiet_NaN())));
  BOOST_TEST(std::isfinite(sf::math::exp(88.72f)));  // e^88.72 ≈ 3.39e38, just below FLT_MAX
  BOOST_TEST(sf::math::exp(88.73f) == inf);
  BOOST_TEST(sf::math::exp(-103.f) == std::numeric_limits<float>::denorm_min());  // e^−103 ≈ 1.3·2^−149
  BOOST_TEST(sf::math::exp(-104.f) == 0.f);
  BOOST_TEST(sf::math::exp(1.f) == 2.7182817f);
  BOOST_TEST(sf::math::exp(-1.f) == 0.36787945f);
}
