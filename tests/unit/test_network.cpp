// DSL and CPU backend behaviour: shape inference, dropout (one mask per sequence, on spikes and trace),
// eval mode (no trace), partial batches, SLTT-K step choice.
#define BOOST_TEST_MODULE network
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

// Scale and Dropout take any number, as a PyTorch user writes it: Scale<2.74> is Scale<2.74f>'s layer.
static_assert(sf::Scale<2.74>::factor == 2.74f && sf::Scale<2>::factor == 2.f);
static_assert(sf::Dropout<0.5>::probability == 0.5f && sf::Dropout2d<0.25>::probability == 0.25f);
static_assert(sf::Network<sf::Input<4>, sf::Linear<4>, sf::OTTTLIF<>, sf::Scale<2.74>, sf::Dropout<0.5>, sf::Linear<2>>::depth == 5);

using Net = sf::Network<sf::Input<1, 4, 4>, sf::Flatten, sf::Linear<64>, sf::OTTTLIF<>, sf::Dropout<0.5f>,
                        sf::Linear<3, sf::linear_opts{.bias = false, .in_features = 64}>>;

static_assert(Net::depth == 5);
static_assert(Net::port_at<1>::dims == sf::features(16));
static_assert(Net::port_at<3>::kind == sf::signal::spikes && Net::port_at<3>::traced);
static_assert(Net::port_at<4>::traced);
static_assert(Net::num_outputs == 3);
static_assert(Net::parameter_count() == 16 * 64 + 64 + 64 * 3);
static_assert(Net::first_parametric == 2);
static_assert(Net::has_trace);
static_assert(!sf::Network<sf::Input<4>, sf::Linear<4>, sf::SLTTLIF<>, sf::Linear<2>>::has_trace);

namespace {
void fill_input(sf::cpu::model<Net>& m, int batch, int t) {
  for (int i = 0; i < batch * 16; ++i) m.input()[i] = static_cast<float>((i * 5 + t * 3) % 11) / 4.f;
}
}  // namespace

BOOST_AUTO_TEST_CASE(dropout_keeps_one_mask_per_sequence_on_spikes_and_trace) {
  sf::cpu::model<Net> m(4, 0, 11, sf::plan_options{.keep_outputs = true});
  m.reset_state(4, sf::phase::train);
  constexpr int n = 4 * 64;
  std::vector<float> mask(n, -1.f);  // inferred from the first step where the unit fired
  int dropped_units = 0, kept_units = 0;
  for (int t = 0; t < 6; ++t) {
    fill_input(m, 4, t);
    m.forward(sf::phase::train);
    const float* spikes = m.output_of(3);
    const float* trace = m.trace_of(3);
    const float* out = m.output_of(4);
    const float* out_trace = m.output_trace_of(4);
    for (int i = 0; i < n; ++i) {
      if (spikes[i] == 1.f && mask[i] < 0.f) {
        mask[i] = out[i];
        (out[i] == 0.f ? dropped_units : kept_units) += 1;
      }
      if (mask[i] < 0.f) continue;
      // Mask values are 0 or 1/(1 − p) = 2, the same at every step, on the spike and on the trace.
      BOOST_TEST((mask[i] == 0.f || mask[i] == 2.f));
      BOOST_TEST(out[i] == mask[i] * spikes[i]);
      BOOST_TEST(out_trace[i] == mask[i] * trace[i]);
    }
  }
  BOOST_TEST(dropped_units > 10);
  BOOST_TEST(kept_units > 10);
  // A new sequence draws a new mask.
  m.reset_state(4, sf::phase::train);
  fill_input(m, 4, 0);
  m.forward(sf::phase::train);
  int changed = 0;
  for (int i = 0; i < n; ++i)
    if (m.output_of(3)[i] == 1.f && mask[i] >= 0.f) changed += m.output_of(4)[i] != mask[i];
  BOOST_TEST(changed > 0);
}

BOOST_AUTO_TEST_CASE(eval_mode_keeps_no_trace_and_no_dropout) {
  sf::cpu::model<Net> m(2, 0, 3, sf::plan_options{.keep_outputs = true});
  m.reset_state(2, sf::phase::eval);
  int spikes = 0;
  for (int t = 0; t < 3; ++t) {
    fill_input(m, 2, t);
    m.forward(sf::phase::eval);
    for (int i = 0; i < 2 * 64; ++i) {
      BOOST_TEST(m.trace_of(3)[i] == 0.f);
      BOOST_TEST(m.output_of(4)[i] == m.output_of(3)[i]);
      spikes += m.output_of(3)[i] != 0.f;
    }
  }
  BOOST_TEST(spikes > 0, "no neuron fired: the dropout check above compared zeros");
}

BOOST_AUTO_TEST_CASE(partial_batch_matches_the_same_samples_in_a_full_batch) {
  sf::cpu::model<Net> m(4, 0, 5);
  std::vector<float> logits_full, logits_part;
  for (const int b : {4, 2}) {
    m.reset_state(b, sf::phase::eval);
    for (int t = 0; t < 3; ++t) {
      fill_input(m, 4, t);  // rows 0..b-1 are the same in both runs
      m.forward(sf::phase::eval);
    }
    auto& dst = b == 4 ? logits_full : logits_part;
    dst.assign(m.logits_sum(), m.logits_sum() + b * 3);
  }
  for (int i = 0; i < 2 * 3; ++i) BOOST_TEST(logits_part[i] == logits_full[i], boost::test_tools::tolerance(1e-5f));
  BOOST_CHECK_THROW(m.reset_state(5, sf::phase::eval), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(sltt_k_chooses_k_distinct_steps) {
  std::mt19937_64 rng(9);
  std::set<std::vector<char>> seen;
  for (int trial = 0; trial < 50; ++trial) {
    const auto s = sf::choose_backward_steps(6, 2, rng);
    int count = 0;
    for (const char c : s) count += c;
    BOOST_TEST(count == 2);
    seen.insert(s);
  }
  BOOST_TEST(seen.size() > 5u);  // the choice varies between batches
  const auto all = sf::choose_backward_steps(6, 0, rng);
  BOOST_TEST(static_cast<int>(all.size()) == 6);
  for (const char c : all) BOOST_TEST(c == 1);
}

BOOST_AUTO_TEST_CASE(training_reduces_the_loss_on_a_fixed_batch) {
  sf::cpu::model<Net> m(8, 2, 1);
  sf::optimizer opt(sf::optimizer_config{});
  std::vector<std::uint8_t> labels{0, 1, 2, 0, 1, 2, 0, 1};
  const sf::step_encoder encode = [](int, float* x) {
    for (int r = 0; r < 8; ++r)
      for (int f = 0; f < 16; ++f) x[r * 16 + f] = (f % 3 == r % 3) ? 1.f : 0.f;
  };
  std::vector<char> all(4, 1);
  double first = 0, last = 0;
  for (int it = 0; it < 60; ++it) {
    const auto r = sf::train_batch(m, opt, 1e-2f, 8, 4, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
    if (it == 0) first = r.loss;
    last = r.loss;
  }
  BOOST_TEST(last < 0.5 * first);
}

BOOST_AUTO_TEST_CASE(a_neuron_before_the_first_linear_trains) {
  // Input → LIF → Linear: no backward reaches the neuron, so it keeps no ψ, but its trace feeds the
  // Linear's weight gradient.
  using First = sf::Network<sf::Input<4>, sf::OTTTLIF<>, sf::Linear<2>>;
  sf::cpu::model<First> m(2, 0, 1);
  sf::optimizer_config oc;
  oc.kind = sf::optimizer_kind::sgd;
  oc.momentum = 0.f;
  sf::optimizer opt(oc);
  const std::vector<std::uint8_t> labels{0, 1};
  const sf::step_encoder encode = [](int, float* x) {
    for (int i = 0; i < 8; ++i) x[i] = 1.5f;
  };
  const std::vector<char> all(3, 1);
  sf::train_batch(m, opt, 0.1f, 2, 3, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
  BOOST_TEST(m.trace_of(1)[0] == 1.75f);  // spikes at t = 0, 1, 2 with τ = 2 (soft reset, h = 1.5, 1.75, 1.875)
}

BOOST_AUTO_TEST_CASE(an_optimizer_needing_more_state_than_the_model_has_is_refused) {
  sf::cpu::model<Net> m(2, 1, 1);  // one slot: enough for SGD with momentum, not for Adam
  sf::optimizer adam(sf::optimizer_config{});
  const std::vector<std::uint8_t> labels{0, 1};
  const sf::step_encoder encode = [](int, float* x) {
    for (int i = 0; i < 32; ++i) x[i] = 0.5f;
  };
  const std::vector<char> all(2, 1);
  BOOST_CHECK_THROW(sf::train_batch(m, adam, 1e-3f, 2, 2, encode, labels, sf::loss_config{},
                                    sf::update_schedule::per_batch, all),
                    std::invalid_argument);
  BOOST_CHECK_THROW(m.optimizer_slot(1), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(reseeding_repeats_the_dropout_masks) {
  sf::cpu::model<Net> m(4, 0, 2, sf::plan_options{.keep_outputs = true});
  std::vector<float> first, second;
  for (auto* out : {&first, &second}) {
    m.reseed(1234);
    m.reset_state(4, sf::phase::train);
    fill_input(m, 4, 0);
    m.forward(sf::phase::train);
    out->assign(m.output_of(4), m.output_of(4) + 4 * 64);
  }
  BOOST_TEST(first == second);
}

BOOST_AUTO_TEST_CASE(a_partial_batch_trains_like_a_model_built_for_it) {
  // Same weights (same seed), same two samples: a model for 4 samples given 2 must compute the same
  // gradients as a model built for exactly 2.
  sf::cpu::model<Net> big(4, 0, 9), exact(2, 0, 9);
  sf::optimizer_config oc;
  oc.kind = sf::optimizer_kind::sgd;
  oc.momentum = 0.f;
  const std::vector<std::uint8_t> labels{2, 1};
  const std::vector<char> all(3, 1);
  std::vector<float> grads[2];
  int k = 0;
  for (auto* m : {&big, &exact}) {
    sf::optimizer opt(oc);
    const sf::step_encoder encode = [&](int t, float* x) {
      for (int i = 0; i < 2 * 16; ++i) x[i] = static_cast<float>((i * 5 + t * 3) % 11) / 4.f;
    };
    sf::train_batch(*m, opt, 0.f, 2, 3, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
    grads[k++].assign(m->gradients().begin(), m->gradients().end());
  }
  BOOST_TEST_REQUIRE(grads[0].size() == grads[1].size());
  double norm = 0;
  // The same GEMM shapes and loops on the same 2 samples: the same bits (the model's capacity only
  // sizes its buffers).
  for (std::size_t i = 0; i < grads[0].size(); ++i) {
    BOOST_TEST(grads[0][i] == grads[1][i]);
    norm += std::fabs(grads[1][i]);
  }
  BOOST_TEST(norm > 0);
}

BOOST_AUTO_TEST_CASE(flatten_may_end_the_network) {
  using Tail = sf::Network<sf::Input<4>, sf::Linear<2>, sf::Flatten>;
  sf::cpu::model<Tail> m(1, 0, 1);
  m.reset_state(1, sf::phase::eval);
  for (int i = 0; i < 4; ++i) m.input()[i] = 1.f;
  m.forward(sf::phase::eval);
  m.forward(sf::phase::eval);
  BOOST_TEST(m.logits_sum()[0] == 2.f * m.logits()[0]);
}

// ---- a static input: the layers that see only the input and the weights are computed once --------
// 8 channels under a 3×3 window: 72 multiply-adds per output value, so the WS conv keeps its output.
using StaticFront = sf::Network<sf::Input<8, 6, 6>, sf::WSConv2d<3, 3, sf::conv_opts{.padding = 1}>, sf::Scale<0.5f>,
                                sf::AvgPool2d<2>, sf::BatchNorm2d<>, sf::OTTTLIF<>, sf::Flatten, sf::Linear<4>>;
static_assert(StaticFront::input_determined == std::array<bool, 8>{false, true, true, true, false, false, false, false});
static_assert(sf::Network<sf::Input<8>, sf::Linear<4>>::input_determined == std::array<bool, 2>{false, false});  // the head
// Kept: a Linear or convolution with at least 64 multiply-adds per output; the Scale and the pooling
// after it are recomputed from it, and a 7-channel conv (63) or a 63-input Linear is recomputed.
static_assert(StaticFront::reuses_output == std::array<bool, 8>{false, true, false, false, false, false, false, false});
static_assert(!sf::Network<sf::Input<7, 6, 6>, sf::Conv2d<3, 3>, sf::OTTTLIF<>, sf::Flatten, sf::Linear<4>>::reuses_output[1]);
static_assert(!sf::Network<sf::Input<63>, sf::Linear<4>, sf::OTTTLIF<>, sf::Linear<2>>::reuses_output[1]);
static_assert(sf::Network<sf::Input<64>, sf::Linear<4>, sf::OTTTLIF<>, sf::Linear<2>>::reuses_output[1]);

BOOST_AUTO_TEST_CASE(a_static_input_trains_the_same_bits_with_the_front_layers_computed_once) {
  // The same image at every step, declared static or not: the first declares the WS conv unchanged
  // after step 0 (per-batch schedule, eval), the second recomputes it.
  std::vector<float> params[2], logits[2];
  for (int declared = 0; declared < 2; ++declared) {
    sf::cpu::model<StaticFront> m(3, 2, 7);
    sf::optimizer opt(sf::optimizer_config{});
    const sf::step_encoder encode(
        [](int, float* x) {
          for (int i = 0; i < 3 * 288; ++i) x[i] = static_cast<float>((i * 7) % 13) / 3.f;
        },
        declared == 1);
    const std::vector<std::uint8_t> labels{0, 3, 1};
    const std::vector<char> all(4, 1);
    for (int b = 0; b < 3; ++b)
      sf::train_batch(m, opt, 1e-2f, 3, 4, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
    sf::evaluate_batch(m, 3, 4, encode, labels);
    params[declared].assign(m.parameters().begin(), m.parameters().end());
    logits[declared].assign(m.logits_sum(), m.logits_sum() + 3 * 4);
  }
  BOOST_TEST(params[0] == params[1]);
  BOOST_TEST(logits[0] == logits[1]);
}

// ---- a static input: a Linear that sees only the input sums ∂out over the steps, one dW GEMM ------
using DeferredFront = sf::Network<sf::Input<8>, sf::Linear<6>, sf::Linear<5>, sf::SLTTLIF<>, sf::Linear<3>>;
static_assert(DeferredFront::defers_weight_gradient<1> && DeferredFront::defers_weight_gradient<2>);
static_assert(!DeferredFront::defers_weight_gradient<4>);  // reads spikes

/// Hooks that copy the gradients before the batch's update into `into`; with `per_step_reader`, also
/// a hook after every backward, which reads per-step gradients, so nothing is deferred.
template <class Model>
sf::train_hooks gradient_hooks(Model& m, std::vector<float>& into, bool per_step_reader) {
  sf::train_hooks hooks;
  if (per_step_reader) hooks.after_backward = [](int, float) {};
  hooks.before_batch_update = [&m, &into] { into.assign(m.gradients().begin(), m.gradients().end()); };
  return hooks;
}

/// Σ (b − a)² and Σ a² over one parameter tensor.
struct tensor_difference {
  double diff = 0.0, norm = 0.0;
  tensor_difference(const sf::parameter_tensor& t, const std::vector<float>& a, const std::vector<float>& b) {
    for (long long i = t.offset; i < t.offset + t.size; ++i) {
      diff += (b[i] - a[i]) * static_cast<double>(b[i] - a[i]);
      norm += static_cast<double>(a[i]) * a[i];
    }
  }
};

BOOST_AUTO_TEST_CASE(deferred_weight_gradients_equal_the_per_step_sum) {
  // The same batch twice: once with a hook after every backward (which reads per-step gradients, so
  // nothing is deferred), once without (the two front Linears sum ∂out and run dW once). Only those
  // two dW differ, by rounding: Σ_t (δ_tᵀ·x) against (Σ_t δ_t)ᵀ·x.
  // Two batches on one model: 4 samples with every step, then 3 samples with a step left without a
  // backward (SLTT-K), so a sum left over from the first batch or a step that should not count shows.
  // The learning rate is 0, so the second batch starts from the same parameters in both runs: the
  // first batch's rounding difference in the front dW must not reach the second batch's gradients
  // through the update.
  std::vector<float> grads[2];
  for (int deferred = 0; deferred < 2; ++deferred) {
    sf::cpu::model<DeferredFront> m(4, 2, 11);
    sf::optimizer opt(sf::optimizer_config{});
    const sf::step_encoder encode(
        [](int, float* x) {
          for (int i = 0; i < 4 * 8; ++i) x[i] = 2.f * static_cast<float>((i * 5) % 9) - 4.f;
        },
        true);
    const std::vector<std::uint8_t> labels{0, 2, 1, 2};
    const sf::train_hooks hooks = gradient_hooks(m, grads[deferred], deferred == 0);
    sf::train_batch(m, opt, 0.f, 4, 5, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch,
                    std::vector<char>(5, 1), hooks);
    sf::train_batch(m, opt, 0.f, 3, 5, encode, std::span<const std::uint8_t>(labels).first(3), sf::loss_config{},
                    sf::update_schedule::per_batch, std::vector<char>{1, 0, 1, 1, 1}, hooks);
  }
  const auto& tensors = sf::parameter_layout<DeferredFront>();
  double front_diff = 0.0;
  for (const auto& t : tensors) {
    const auto [diff, norm] = tensor_difference(t, grads[0], grads[1]);
    BOOST_TEST_INFO("tensor " << t.name);
    BOOST_TEST(norm > 0.0);
    const bool front_weight = (t.layer == 1 || t.layer == 2) && t.name.ends_with(".weight");
    if (front_weight) {
      BOOST_TEST(std::sqrt(diff / norm) <= 1e-6);
      front_diff += diff;
    } else {
      BOOST_TEST(diff == 0.0);  // biases (still per step) and the layers after the neuron: the same bits
    }
  }
  // The other summation order shows in the last bits (for this data): the deferred path did run.
  BOOST_TEST(front_diff > 0.0);
}

// The head defers its dW and reads the Scale's output, which is input-determined but not kept (no
// multiply-adds), so it lives in the shared pool: it must stay intact until the gradient is flushed
// after the last step, not be overwritten by a later buffer (the first Linear's ∂out).
using PooledDeferredInput = sf::Network<sf::Input<32>, sf::Linear<100>, sf::Scale<0.5f>, sf::Linear<10>>;
static_assert(PooledDeferredInput::defers_weight_gradient<3> && !PooledDeferredInput::reuses_output[2]);

BOOST_AUTO_TEST_CASE(a_deferred_weight_gradient_reads_its_pooled_input_intact) {
  std::vector<float> grads[2];
  for (int deferred = 0; deferred < 2; ++deferred) {
    sf::cpu::model<PooledDeferredInput> m(4, 2, 5);
    sf::optimizer opt(sf::optimizer_config{});
    const sf::step_encoder encode(
        [](int, float* x) {
          for (int i = 0; i < 4 * 32; ++i) x[i] = static_cast<float>((i * 5) % 9) / 4.f - 1.f;
        },
        true);
    const std::vector<std::uint8_t> labels{0, 2, 1, 9};
    const sf::train_hooks hooks = gradient_hooks(m, grads[deferred], deferred == 0);
    sf::train_batch(m, opt, 0.f, 4, 4, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch,
                    std::vector<char>(4, 1), hooks);
  }
  for (const auto& t : sf::parameter_layout<PooledDeferredInput>()) {
    const auto [diff, norm] = tensor_difference(t, grads[0], grads[1]);
    BOOST_TEST_INFO("tensor " << t.name);
    BOOST_TEST(norm > 0.0);
    BOOST_TEST(std::sqrt(diff / norm) <= 1e-6);
  }
}
