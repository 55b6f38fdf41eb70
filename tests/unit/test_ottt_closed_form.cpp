// OTTT gradients against their closed form (spec §B.3), on a 2-input, 1-hidden, 1-output network by hand.
//
// Network: x (2) → Linear W1 (1×2, no bias) → OTTTLIF (τ = 2, soft reset, decay_input false, θ = 1)
//          → Linear W2 (1×1, no bias) → y. Loss L_t = y_t / T is not available, so we use λ = 1, a
// constant MSE target 0: L_t = (y_t − 0)²/T with one class and one sample, ∂L_t/∂y_t = 2y_t/T.
// Then ∂L_t/∂W2 = δ_t·â_t (trace, not spike) and ∂L_t/∂W1 = (δ_t·W2·ψ_t)·x_t (raw input, first layer).
#define BOOST_TEST_MODULE ottt_closed_form
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<2>, sf::Linear<1, sf::no_bias>, sf::OTTTLIF<>, sf::Linear<1, sf::no_bias>>;

BOOST_AUTO_TEST_CASE(accumulated_ottt_gradient_equals_hand_computation) {
  sf::cpu::model<Net> m(1, 0, 1);
  auto& t = m.tensors();
  BOOST_TEST_REQUIRE(t.size() == 2u);
  m.tensor(t[0])[0] = 0.75f;  // W1 = [0.75, 0.5]
  m.tensor(t[0])[1] = 0.5f;
  m.tensor(t[1])[0] = 2.0f;   // W2 = 2
  const float x[3][2] = {{1.0f, 0.5f}, {1.0f, 1.0f}, {0.0f, 1.0f}};
  constexpr int T = 3;

  // By hand, τ = 2 (λ = 0.5), v0 = 0, soft reset, h = v − v/2 + z:
  //  t0: z = 1.0   h = 1.0   s = 1  v = 0     â = 1      y = 2   ψ = σ'(0)·4 = 1
  //  t1: z = 1.25  h = 1.25  s = 1  v = 0.25  â = 1.5    y = 2   ψ = 4σ(1)(1−σ(1))
  //  t2: z = 0.5   h = 0.625 s = 0  v = 0.625 â = 0.75   y = 0   ψ = 4σ(−1.5)(1−σ(−1.5))
  const double sig1 = 1.0 / (1.0 + std::exp(-1.0));
  const double sigm15 = 1.0 / (1.0 + std::exp(1.5));
  const double psi[T] = {1.0, 4 * sig1 * (1 - sig1), 4 * sigm15 * (1 - sigm15)};
  const double y[T] = {2.0, 2.0, 0.0};
  const double trace[T] = {1.0, 1.5, 0.75};
  double dW2 = 0, dW1[2] = {0, 0};
  for (int k = 0; k < T; ++k) {
    const double delta = 2.0 * y[k] / T;  // ∂L_t/∂y_t with L_t = y_t² / T (one sample, one class)
    dW2 += delta * trace[k];              // GradwithTrace: the trace, not the spike
    const double g_z = delta * 2.0 * psi[k];  // W2ᵀδ·ψ, decay_input false: no 1/τ
    dW1[0] += g_z * x[k][0];              // first layer: raw input
    dW1[1] += g_z * x[k][1];
  }

  sf::optimizer_config oc;
  oc.kind = sf::optimizer_kind::sgd;
  oc.momentum = 0.f;
  sf::optimizer opt(oc);
  sf::loss_config lc;
  lc.mse_weight = 1.f;
  lc.constant_mse_target = true;
  lc.mse_target_value = 0.f;
  std::vector<std::uint8_t> label{0};
  std::vector<char> all(T, 1);
  bool checked = false;
  sf::train_hooks hooks;
  hooks.before_batch_update = [&] {
    const auto g1 = m.tensor_grad(t[0]);
    const auto g2 = m.tensor_grad(t[1]);
    BOOST_TEST(g2[0] == dW2, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(g1[0] == dW1[0], boost::test_tools::tolerance(1e-6));
    BOOST_TEST(g1[1] == dW1[1], boost::test_tools::tolerance(1e-6));
    BOOST_TEST(m.trace_of(2)[0] == 0.75f);
    checked = true;
  };
  const sf::step_encoder encode = [&](int k, float* in) {
    in[0] = x[k][0];
    in[1] = x[k][1];
  };
  sf::train_batch(m, opt, 0.f, 1, T, encode, label, lc, sf::update_schedule::per_batch, all, hooks);
  BOOST_TEST(checked);
  // The hand computation itself: δ = 4/3, 4/3, 0 and â = 1, 1.5 give 10/3; spikes would give 8/3.
  BOOST_TEST(dW2 == 10.0 / 3, boost::test_tools::tolerance(1e-12));
}
