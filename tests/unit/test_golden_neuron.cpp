// Golden parity, single neurons: spikes, v, trace and ∂x of SpikingJelly's OTTTLIFNode over 16 steps.
#define BOOST_TEST_MODULE golden_neuron
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

#include "spikefuse/backend/cpu/lif.hpp"
#include "spikefuse/neuron/lif.hpp"
#include "support/golden.hpp"

namespace sf = spikefuse;
using sf::test::golden_file;

namespace {

// Index = surrogate_id of tests/golden/data/neuron.txt (SpikingJelly default parameters).
using surrogates = std::tuple<sf::surrogate::Sigmoid<>, sf::surrogate::ATan<>, sf::surrogate::PiecewiseQuadratic<>,
                              sf::surrogate::PiecewiseExp<>, sf::surrogate::SoftSign<>, sf::surrogate::SuperSpike<>,
                              sf::surrogate::Erf<>, sf::surrogate::NonzeroSignLogAbs<>,
                              sf::surrogate::PiecewiseLeakyReLU<>, sf::surrogate::SquarewaveFourierSeries<>,
                              sf::surrogate::S2NN<>, sf::surrogate::QPseudoSpike<>, sf::surrogate::LeakyKReLU<>,
                              sf::surrogate::FakeNumericalGradient<>, sf::surrogate::LogTailedReLU<>,
                              sf::surrogate::Rect<>>;

constexpr double taus[] = {2.0, 1.1, 4.0};
constexpr sf::reset_rule resets[] = {sf::soft_reset, sf::hard_reset(0.0), sf::hard_reset(-0.5)};

struct case_data {
  int T, N;
  std::vector<float> x, grad_spike, spike, v, trace, grad_x, eval_spike, eval_v;
};

struct outcome {
  int spike_mismatches = 0, v_mismatches = 0, trace_mismatches = 0, eval_mismatches = 0;
  int bits_mismatches = -1;  // ψ from the spike bits against ψ stored, in ∂x (soft reset only; −1: not run)
  double grad_rel_error = 0;
};

template <class Neuron>
outcome run_case(const case_data& c) {
  outcome o;
  const int n = c.N;
  std::vector<float> v(n, sf::lif_constants<Neuron::params>::v_init), trace(n, 0.f), spike(n), psi(n), gx(n);
  std::vector<float> all_gx;
  // The same neurons again, keeping spike bits instead of ψ where the reset is soft.
  constexpr bool from_bits = sf::lif::psi_from_state_exact<Neuron::params>;
  std::vector<float> v_bits = v, trace_bits = trace, spike_bits_out(n), gx_bits(n);
  std::vector<std::uint32_t> bits(static_cast<std::size_t>(sf::lif::spike_bit_words(n)));
  if (from_bits) o.bits_mismatches = 0;
  for (int t = 0; t < c.T; ++t) {
    const std::size_t off = static_cast<std::size_t>(t) * n;
    sf::cpu::lif_forward<Neuron>(sf::phase::train, n, &c.x[off], v.data(), trace.data(), spike.data(), {psi.data(), nullptr});
    sf::cpu::lif_backward<Neuron>(n, &c.grad_spike[off], {psi.data(), nullptr, nullptr}, gx.data());
    if constexpr (from_bits) {
      sf::cpu::lif_forward<Neuron>(sf::phase::train, n, &c.x[off], v_bits.data(), trace_bits.data(), spike_bits_out.data(),
                                   {nullptr, bits.data()});
      sf::cpu::lif_backward<Neuron>(n, &c.grad_spike[off], {nullptr, bits.data(), v_bits.data()}, gx_bits.data());
      for (int i = 0; i < n; ++i)
        o.bits_mismatches += std::memcmp(&gx[i], &gx_bits[i], sizeof(float)) != 0 || spike[i] != spike_bits_out[i] ||
                             v[i] != v_bits[i] || trace[i] != trace_bits[i];
    }
    for (int i = 0; i < n; ++i) {
      // Same operations in the same order as SpikingJelly's CPU kernel: equal to the last bit.
      o.spike_mismatches += spike[i] != c.spike[off + i];
      o.v_mismatches += v[i] != c.v[off + i];
      o.trace_mismatches += trace[i] != c.trace[off + i];
    }
    all_gx.insert(all_gx.end(), gx.begin(), gx.end());
  }
  o.grad_rel_error = sf::test::max_relative_error(all_gx, c.grad_x, 1e-2);  // near-elementwise
  if (!c.eval_spike.empty()) {
    std::fill(v.begin(), v.end(), sf::lif_constants<Neuron::params>::v_init);
    for (int t = 0; t < c.T; ++t) {
      const std::size_t off = static_cast<std::size_t>(t) * n;
      sf::cpu::lif_forward<Neuron>(sf::phase::eval, n, &c.x[off], v.data(), nullptr, spike.data(), {});
      for (int i = 0; i < n; ++i) o.eval_mismatches += (spike[i] != c.eval_spike[off + i]) + (v[i] != c.eval_v[off + i]);
    }
  }
  return o;
}

/// Finds the compile-time neuron whose parameters equal the case's and runs it.
template <std::size_t S = 0, std::size_t Tau = 0, int Decay = 0, std::size_t R = 0>
bool dispatch(int sid, float tau, bool decay, const sf::reset_rule& reset, const case_data& c, outcome& out) {
  if constexpr (S < std::tuple_size_v<surrogates>) {
    if constexpr (Tau < std::size(taus)) {
      if constexpr (Decay < 2) {
        if constexpr (R < std::size(resets)) {
          constexpr sf::ottt_params p{.tau = taus[Tau], .decay_input = Decay == 1, .reset = resets[R]};
          // Non-sigmoid surrogates were generated only for two (tau, decay, reset) bases.
          constexpr bool generated = S == 0 || (Tau == 0 && Decay == 0 && R == 0) || (Tau == 1 && Decay == 1 && R == 1);
          if constexpr (generated) {
            if (static_cast<int>(S) == sid && static_cast<float>(p.tau) == tau && p.decay_input == decay && p.reset.soft == reset.soft &&
                (reset.soft || p.reset.v_reset == reset.v_reset)) {
              out = run_case<sf::OTTTLIF<p, std::tuple_element_t<S, surrogates>>>(c);
              return true;
            }
          }
          return dispatch<S, Tau, Decay, R + 1>(sid, tau, decay, reset, c, out);
        } else {
          return dispatch<S, Tau, Decay + 1, 0>(sid, tau, decay, reset, c, out);
        }
      } else {
        return dispatch<S, Tau + 1, 0, 0>(sid, tau, decay, reset, c, out);
      }
    } else {
      return dispatch<S + 1, 0, 0, 0>(sid, tau, decay, reset, c, out);
    }
  } else {
    return false;
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_neuron_case_matches_spikingjelly) {
  const golden_file g(sf::test::golden_dir() + "/neuron.txt");
  int cases = 0, bits_cases = 0;
  for (int k = 0; g.has("case" + std::to_string(k) + "/tau"); ++k) {
    const std::string p = "case" + std::to_string(k) + "/";
    case_data c;
    c.T = g[p + "x"].dims.at(0);
    c.N = g[p + "x"].dims.at(1);
    c.x = g[p + "x"].values;
    c.grad_spike = g[p + "grad_spike"].values;
    c.spike = g[p + "spike"].values;
    c.v = g[p + "v"].values;
    c.trace = g[p + "trace"].values;
    c.grad_x = g[p + "grad_x"].values;
    if (g.has(p + "eval_spike")) {
      c.eval_spike = g[p + "eval_spike"].values;
      c.eval_v = g[p + "eval_v"].values;
    }
    const bool soft = g[p + "soft_reset"].scalar() != 0.f;
    const sf::reset_rule reset = soft ? sf::soft_reset : sf::hard_reset(g[p + "v_reset"].scalar());
    const int sid = static_cast<int>(g[p + "surrogate_id"].scalar());
    outcome o;
    const bool found = dispatch(sid, g[p + "tau"].scalar(), g[p + "decay_input"].scalar() != 0.f, reset, c, o);
    BOOST_TEST_CONTEXT("case " << k << " (surrogate " << sid << ", tau " << g[p + "tau"].scalar() << ")") {
      BOOST_TEST_REQUIRE(found);
      BOOST_TEST(o.spike_mismatches == 0);
      BOOST_TEST(o.v_mismatches == 0);
      BOOST_TEST(o.trace_mismatches == 0);
      BOOST_TEST(o.eval_mismatches == 0);
      // ψ and ∂x are a few float operations; SpikingJelly computes the same formulas, sometimes in
      // another order, and with spikefuse's exp where PyTorch uses Sleef's: a few ulp (2.6e-7 at
      // most over the 48 cases).
      BOOST_TEST(o.grad_rel_error <= 1e-6);
      // A soft reset keeps spike bits, not ψ: the recomputed ψ gives the same ∂x to the last bit.
      BOOST_TEST(o.bits_mismatches == (soft ? 0 : -1));
      bits_cases += soft;
    }
    ++cases;
  }
  BOOST_TEST(cases == 48);
  BOOST_TEST(bits_cases >= 16);  // every surrogate has a soft-reset case
}
