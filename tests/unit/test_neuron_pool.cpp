// The fused neuron + Scale + average pooling step (backend/neuron_pool.hpp, run by the CUDA neuron
// kernel) against the CPU backend's three separate layers: same pooled spikes, pooled trace, state,
// ψ and input gradient, bit for bit, over several steps, with ψ stored and (soft reset) recomputed
// from the tile-numbered spike bits; and which poolings are fused at all.
#define BOOST_TEST_MODULE neuron_pool
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "spikefuse/backend/cpu/pass_through.hpp"
#include "spikefuse/backend/cpu/pooling.hpp"
#include "spikefuse/backend/neuron_pool.hpp"
#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

template <int C, int H, int W>
using spikes_port = sf::port<sf::shape{C, H, W}, sf::signal::spikes, true>;
template <class Pool, class In>
using tiling_of = sf::neuron_pool::tiling<Pool, In, typename Pool::template output<In>>;

// ---- which poolings the neuron kernel does ------------------------------------------------------
static_assert(tiling_of<sf::AvgPool2d<2>, spikes_port<4, 9, 9>>::fusable);  // the odd row/column feeds no window
static_assert(tiling_of<sf::AvgPool2d<2>, spikes_port<4, 9, 9>>::tiles_h == 5);
static_assert(tiling_of<sf::AvgPool2d<4>, spikes_port<4, 4, 4>>::fusable);  // SLTT ResNet-18's last pooling
static_assert(tiling_of<sf::AdaptiveAvgPool2d<1>, spikes_port<4, 2, 2>>::fusable);  // VGG-11-WS's global pooling
static_assert(tiling_of<sf::AdaptiveAvgPool2d<2, 3>, spikes_port<4, 6, 6>>::tile_w == 2);
static_assert(!tiling_of<sf::MaxPool2d<2>, spikes_port<4, 8, 8>>::fusable);           // backward needs the argmax
static_assert(!tiling_of<sf::AvgPool2d<3, 1, 1>, spikes_port<4, 8, 8>>::fusable);     // windows overlap
static_assert(!tiling_of<sf::AvgPool2d<2, 2, 1>, spikes_port<4, 8, 8>>::fusable);     // padding
static_assert(!tiling_of<sf::AdaptiveAvgPool2d<3>, spikes_port<4, 7, 7>>::fusable);   // uneven windows
static_assert(!tiling_of<sf::AdaptiveAvgPool2d<1>, spikes_port<4, 8, 8>>::fusable);   // 64 elements for one thread
static_assert(!tiling_of<sf::AvgPool2d<5>, spikes_port<4, 10, 10>>::fusable);
static_assert(!tiling_of<sf::AdaptiveAvgPool2d<4>, spikes_port<4, 2, 2>>::fusable);  // larger than its input

namespace {

/// Runs `steps` forward and backward steps of Neuron → Scale<c> → Pool on `planes` planes both ways
/// and requires equal bits everywhere. `train`: the spikes are stored too; `Eval`: the trace is not
/// kept and ψ not written (the eval phase), so only the pooled spikes and v are compared.
template <class Neuron, class Pool, class In, float C, bool Eval = false>
void check_fused_equals_separate(int planes, int steps, bool train, std::uint32_t seed) {
  using Out = typename Pool::template output<In>;
  using T = sf::neuron_pool::tiling<Pool, In, Out>;
  static_assert(T::fusable);
  constexpr bool keep_trace = Neuron::keeps_trace && !Eval;
  constexpr bool keep_psi = !Eval;
  const long long n = static_cast<long long>(planes) * In::dims.h * In::dims.w;
  const long long m = static_cast<long long>(planes) * Out::dims.h * Out::dims.w;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> current(-0.5f, 2.5f), grad(-1.f, 1.f);

  // Separate layers (the CPU backend's code) ...
  std::vector<float> v_a(n, 0.f), trace_a(n, 0.f), psi_a(n), s_a(n), scaled(n), scaled_trace(n), pooled_a(m),
      pooled_trace_a(m), grad_scaled(n), grad_s(n), dx_a(n);
  // ... and the fused step.
  std::vector<float> v_b(n, 0.f), trace_b(n, 0.f), psi_b(n), s_b(n), pooled_b(m), pooled_trace_b(m), dx_b(n);
  // ... and the fused step keeping spike bits instead of ψ (soft reset).
  constexpr bool from_bits = sf::lif::psi_from_state_exact<Neuron::params> && !Eval;
  std::vector<float> v_c(n, 0.f), trace_c(n, 0.f), pooled_c(m), pooled_trace_c(m), dx_c(n);
  std::vector<std::uint32_t> words(static_cast<std::size_t>(sf::lif::spike_bit_words(planes * T::spike_bits_per_plane)));
  std::vector<float> x(n), grad_pooled(m);

  for (int t = 0; t < steps; ++t) {
    for (auto& xi : x) xi = current(rng);
    for (auto& g : grad_pooled) g = grad(rng);

    for (long long i = 0; i < n; ++i) {
      float psi = 0.f;
      s_a[i] = sf::lif::fused_forward<Neuron::params, typename Neuron::surrogate_type, keep_trace, true>(x[i], v_a[i],
                                                                                                       trace_a[i], psi);
      psi_a[i] = psi;
    }
    sf::cpu::scale(n, C, s_a.data(), scaled.data());
    sf::cpu::pool_forward<Pool, In, Out>(planes, scaled.data(), pooled_a.data());
    if (keep_trace) {
      sf::cpu::scale(n, C, trace_a.data(), scaled_trace.data());
      sf::cpu::pool_forward<Pool, In, Out>(planes, scaled_trace.data(), pooled_trace_a.data());
    }
    sf::cpu::pool_backward<Pool, In, Out>(planes, scaled.data(), grad_pooled.data(), grad_scaled.data());
    sf::cpu::scale(n, C, grad_scaled.data(), grad_s.data());
    for (long long i = 0; i < n; ++i) dx_a[i] = sf::lif::input_grad<Neuron::params>(grad_s[i], psi_a[i]);

    const sf::neuron_pool::forward_buffers b{x.data(), v_b.data(),      trace_b.data(),       psi_b.data(),
                                             train ? s_b.data() : nullptr, pooled_b.data(), pooled_trace_b.data()};
    constexpr auto keep = keep_psi ? sf::lif::kept_for_backward::psi : sf::lif::kept_for_backward::nothing;
    for (long long tile = 0; tile < planes * T::tiles_per_plane; ++tile) {
      const std::uint32_t no_bits = sf::neuron_pool::forward_tile<Neuron, T, keep_trace, keep>(tile, b, C);
      BOOST_TEST_REQUIRE(no_bits == 0u);
    }
    for (long long i = 0; i < n; ++i)
      dx_b[i] = sf::neuron_pool::input_grad_at<Neuron, T, false>(i, grad_pooled.data(), {psi_b.data(), nullptr, nullptr}, C);
    if constexpr (from_bits) {
      // Tile k's bits at k·bits_per_tile, as the CUDA kernel's warp packs them.
      const sf::neuron_pool::forward_buffers c{x.data(), v_c.data(), trace_c.data(), nullptr, nullptr, pooled_c.data(),
                                               pooled_trace_c.data()};
      std::fill(words.begin(), words.end(), 0xFFFFFFFFu);  // every bit of a word is written
      for (long long tile = 0; tile < planes * T::tiles_per_plane; ++tile) {
        const std::uint32_t bits = sf::neuron_pool::forward_tile<Neuron, T, keep_trace, sf::lif::kept_for_backward::spike_bits>(tile, c, C);
        BOOST_TEST_REQUIRE((bits >> T::bits_per_tile) == 0u);  // no bit beyond the tile's
        const long long bit = tile * T::bits_per_tile;
        auto& word = words[static_cast<std::size_t>(bit / 32)];
        if (bit % 32 == 0) word = 0;
        word |= bits << (bit % 32);
      }
      for (long long i = 0; i < n; ++i)
        dx_c[i] = sf::neuron_pool::input_grad_at<Neuron, T, true>(i, grad_pooled.data(), {nullptr, words.data(), v_c.data()}, C);
    }

    const auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
      return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    BOOST_TEST_CONTEXT("step " << t) {
      BOOST_TEST(same(pooled_a, pooled_b));
      BOOST_TEST(same(v_a, v_b));
      if (keep_psi) {
        BOOST_TEST(same(psi_a, psi_b));
        BOOST_TEST(same(dx_a, dx_b));
      }
      if (keep_trace) {
        BOOST_TEST(same(trace_a, trace_b));
        BOOST_TEST(same(pooled_trace_a, pooled_trace_b));
      }
      if (train) BOOST_TEST(same(s_a, s_b));
      if (from_bits) {
        BOOST_TEST(same(dx_a, dx_c));
        BOOST_TEST(same(v_a, v_c));
        BOOST_TEST(same(pooled_a, pooled_c));
        if (keep_trace) BOOST_TEST(same(pooled_trace_a, pooled_trace_c));
      }
    }
  }
  // The inputs drive real spiking: some spikes, not all.
  long long fired = 0;
  for (float s : s_a) fired += s != 0.f;
  BOOST_TEST(fired > 0);
  BOOST_TEST(fired < n);
}

}  // namespace

BOOST_AUTO_TEST_CASE(avg_pool_over_an_odd_plane_ottt) {
  check_fused_equals_separate<sf::OTTTLIF<>, sf::AvgPool2d<2>, spikes_port<3, 9, 9>, 1.f>(5, 4, true, 1u);
}

BOOST_AUTO_TEST_CASE(scale_then_avg_pool_ottt_without_stored_spikes) {
  check_fused_equals_separate<sf::OTTTLIF<>, sf::AvgPool2d<2>, spikes_port<3, 8, 6>, 2.74f>(4, 4, false, 2u);
}

BOOST_AUTO_TEST_CASE(scale_then_global_pool_sltt) {
  check_fused_equals_separate<sf::SLTTPaperLIF, sf::AdaptiveAvgPool2d<1>, sf::port<sf::shape{6, 2, 2}, sf::signal::spikes, false>,
                              0.5f>(8, 5, true, 3u);
}

BOOST_AUTO_TEST_CASE(non_square_adaptive_tiles_and_a_wide_window) {
  check_fused_equals_separate<sf::SLTTLIF<>, sf::AdaptiveAvgPool2d<2, 3>, sf::port<sf::shape{2, 6, 6}, sf::signal::spikes, false>,
                              1.f>(3, 3, true, 4u);
  check_fused_equals_separate<sf::OTTTLIF<>, sf::AvgPool2d<4>, spikes_port<2, 4, 7>, 3.f>(3, 3, true, 5u);
}

BOOST_AUTO_TEST_CASE(hard_reset_keeps_psi) {
  using HardLIF = sf::OTTTLIF<sf::ottt_params{.reset = sf::hard_reset(0.0)}>;
  static_assert(!sf::lif::psi_from_state_exact<HardLIF::params>);
  check_fused_equals_separate<HardLIF, sf::AvgPool2d<2>, spikes_port<3, 8, 8>, 2.f>(3, 4, true, 7u);
}

BOOST_AUTO_TEST_CASE(spike_bits_per_tile_are_a_power_of_two) {
  static_assert(tiling_of<sf::AvgPool2d<2>, spikes_port<4, 9, 9>>::bits_per_tile == 4);
  static_assert(tiling_of<sf::AvgPool2d<2>, spikes_port<4, 9, 9>>::spike_bits_per_plane == 25 * 4);
  static_assert(tiling_of<sf::AdaptiveAvgPool2d<2, 3>, spikes_port<4, 6, 6>>::bits_per_tile == 8);  // 3×2 windows
  static_assert(tiling_of<sf::AdaptiveAvgPool2d<1>, spikes_port<4, 4, 4>>::bits_per_tile == 16);
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_CASE(eval_phase_keeps_no_trace_and_no_psi) {
  check_fused_equals_separate<sf::OTTTLIF<>, sf::AvgPool2d<2>, spikes_port<2, 7, 8>, 2.f, true>(3, 3, false, 6u);
}
