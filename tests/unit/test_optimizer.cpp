// Optimizers against torch.optim on fixed gradients (tests/golden/data/optim.txt); cosine LR closed form.
#define BOOST_TEST_MODULE optimizer
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include "spikefuse/train/lr_schedule.hpp"
#include "spikefuse/train/optimizer.hpp"
#include "support/golden.hpp"

namespace sf = spikefuse;

namespace {
void check(const std::string& name, sf::optimizer_config cfg, float lr) {
  const sf::test::golden_file g(sf::test::golden_dir() + "/optim.txt");
  auto p = g["optim/p0"].values;
  const auto& grads = g["optim/grads"].values;
  const auto& expected = g[name + "/p"].values;
  const std::size_t n = p.size();
  std::vector<float> s0(n, 0.f), s1(n, 0.f);
  sf::optimizer opt(cfg);
  for (int k = 0; k < 5; ++k) {
    std::vector<float> gk(grads.begin() + static_cast<long>(k * n), grads.begin() + static_cast<long>((k + 1) * n));
    opt.step(lr, p, gk, s0, s1);
    std::vector<float> ek(expected.begin() + static_cast<long>(k * n), expected.begin() + static_cast<long>((k + 1) * n));
    // A handful of float operations per step in torch's order, with its coefficients (1 − β rounded
    // once from double): within about one ulp (torch's vector kernels may fuse a multiply-add that
    // is rounded twice here). 1 − β formed in float was 2.1e-7 off.
    BOOST_TEST_CONTEXT(name << " step " << k) { BOOST_TEST(sf::test::max_relative_error(p, ek, 1e-2) <= 1.5e-7); }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(sgd_variants_match_torch) {
  sf::optimizer_config c;
  c.kind = sf::optimizer_kind::sgd;
  c.momentum = 0.f;
  check("sgd_plain", c, 0.1f);
  c.momentum = 0.9f;
  c.weight_decay = 0.01f;
  check("sgd_momentum_wd", c, 0.1f);
  c.nesterov = true;
  c.weight_decay = 1e-3f;
  check("sgd_nesterov", c, 0.05f);
}

BOOST_AUTO_TEST_CASE(adam_variants_match_torch) {
  sf::optimizer_config c;
  c.kind = sf::optimizer_kind::adam;
  check("adam", c, 0.01f);
  c.weight_decay = 0.01f;
  check("adam_wd", c, 0.01f);
  c.kind = sf::optimizer_kind::adamw;
  check("adamw", c, 0.01f);
}

BOOST_AUTO_TEST_CASE(invalid_hyper_parameters_are_rejected) {
  sf::optimizer_config c;
  c.kind = sf::optimizer_kind::adam;
  c.nesterov = true;
  BOOST_CHECK_THROW(sf::optimizer{c}, std::invalid_argument);
  c.nesterov = false;
  c.beta1 = 1.0;
  BOOST_CHECK_THROW(sf::optimizer{c}, std::invalid_argument);
  BOOST_CHECK_THROW(sf::parse_optimizer("rmsprop"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(cosine_schedule_with_warmup) {
  const sf::cosine_schedule s{0.1f, 110, 10, 0.f};
  BOOST_TEST(s(0) == 0.01f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(s(9) == 0.1f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(s(10) == 0.1f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(s(60) == 0.05f, boost::test_tools::tolerance(1e-6f));  // half way: ½·lr
  BOOST_TEST(s(35) == static_cast<float>(0.05 * (1 + std::cos(3.14159265358979 * 0.25))), boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(s(110) == 0.f, boost::test_tools::tolerance(1e-6f));
  const sf::cosine_schedule no_warmup{1.f, 4, 0, 0.f};
  BOOST_TEST(no_warmup(0) == 1.f);
  BOOST_TEST(no_warmup(2) == 0.5f, boost::test_tools::tolerance(1e-6f));
}
