// Buffers shared by liveness compute what buffers of their own compute, bit for bit: a model with the
// default plan, one with plan_options::keep_outputs (the golden tests' layout) and one that shares
// nothing (plan_options::share_buffers = false) and one that keeps spike bits for ψ
// (plan_options::psi_from_spike_bits, the CUDA layout) train side by side on the same batches (static and
// changing input, per-batch and per-step updates, SLTT-K steps without backward, eval), and their
// losses, logits, gradients and parameters must be identical. The golden tests check the
// kept-outputs model against SpikingJelly; this test carries that to the shared layouts.
#define BOOST_TEST_MODULE shared_buffers
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "spikefuse/models/sltt_resnet18.hpp"
#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

namespace {

inline constexpr sf::conv_opts same{.padding = 1};

using MlpDropout = sf::Network<sf::Input<1, 8, 8>, sf::Flatten, sf::Linear<32>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                               sf::Dropout<0.25f>, sf::Linear<16>, sf::OTTTLIF<>, sf::Linear<10>>;
using VggLike = sf::Network<sf::Input<2, 8, 8>, sf::WSConv2d<8, 3, same>, sf::OTTTLIF<>, sf::Scale<2.74f>, sf::AvgPool2d<2>,
                            sf::WSConv2d<8, 3, same>, sf::OTTTLIF<>, sf::Scale<2.74f>, sf::WSConv2d<8, 3, same>, sf::OTTTLIF<>,
                            sf::Scale<2.74f>, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<3>>;
using MaxPooled = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, same>, sf::SLTTLIF<>, sf::MaxPool2d<2>, sf::WSConv2d<6, 3, same>,
                              sf::SLTTLIF<>, sf::Dropout2d<0.2f>, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::WSLinear<3>>;
using BatchNormed = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, same>, sf::BatchNorm2d<>, sf::OTTTLIF<>, sf::AvgPool2d<2>,
                                sf::WSConv2d<6, 3, same>, sf::BatchNorm2d<>, sf::OTTTLIF<>, sf::AdaptiveAvgPool2d<1>, sf::Flatten,
                                sf::Linear<3>>;
using Residual = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1, .bias = false}>,
                             sf::models::preact_block<4, 4, 1, sf::SLTTPaperLIF>, sf::models::preact_block<4, 8, 2, sf::SLTTPaperLIF>,
                             sf::BatchNorm2d<>, sf::SLTTPaperLIF, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<3>>;

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct scenario {
  const char* name;
  bool static_input;
  sf::update_schedule schedule;
  std::vector<char> backward_at;
};

template <class Net>
void check_shared_equals_kept() {
  constexpr int B = 4, T = 4;
  sf::cpu::model<Net> shared(B, 2, 3), kept(B, 2, 3, sf::plan_options{.keep_outputs = true}),
      alone(B, 2, 3, sf::plan_options{.share_buffers = false}), bits(B, 2, 3, sf::plan_options{.psi_from_spike_bits = true});
  BOOST_TEST(shared.allocated_bytes() < kept.allocated_bytes());
  BOOST_TEST(bits.allocated_bytes() <= shared.allocated_bytes());  // less where a neuron resets softly
  BOOST_TEST(kept.allocated_bytes() < alone.allocated_bytes());
  BOOST_TEST(shared.plan().shared_pool > 0);
  BOOST_TEST(alone.plan().shared_pool == 0);
  sf::optimizer shared_opt(sf::optimizer_config{}), kept_opt(sf::optimizer_config{}), alone_opt(sf::optimizer_config{}),
      bits_opt(sf::optimizer_config{});
  std::vector<std::uint8_t> labels(B);
  for (int i = 0; i < B; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i % Net::num_outputs);
  const scenario scenarios[] = {
      {"static input, per batch (reused outputs, deferred gradients)", true, sf::update_schedule::per_batch, {1, 1, 1, 1}},
      {"changing input, per step (OTTT_O)", false, sf::update_schedule::per_step, {1, 1, 1, 1}},
      {"changing input, two steps without backward (SLTT-K)", false, sf::update_schedule::per_batch, {0, 1, 0, 1}},
  };
  int batch_number = 0;
  for (const auto& s : scenarios) {
    for (int repeat = 0; repeat < 2; ++repeat, ++batch_number) {
      const int b = repeat == 0 ? B : B - 1;  // a smaller last batch uses the buffers' first part only
      const sf::step_encoder encode(
          [&, batch_number](int t, float* x) {
            for (int i = 0; i < b * static_cast<int>(Net::input_size); ++i)
              x[i] = static_cast<float>((i * 7 + 3 * batch_number + (s.static_input ? 0 : 5 * t)) % 17) / 8.f;
          },
          s.static_input);
      const auto r_shared = sf::train_batch(shared, shared_opt, 1e-2f, b, T, encode, std::span(labels).first(b), {},
                                            s.schedule, s.backward_at);
      const auto r_kept =
          sf::train_batch(kept, kept_opt, 1e-2f, b, T, encode, std::span(labels).first(b), {}, s.schedule, s.backward_at);
      const auto r_alone =
          sf::train_batch(alone, alone_opt, 1e-2f, b, T, encode, std::span(labels).first(b), {}, s.schedule, s.backward_at);
      const auto r_bits =
          sf::train_batch(bits, bits_opt, 1e-2f, b, T, encode, std::span(labels).first(b), {}, s.schedule, s.backward_at);
      for (auto* m : {&shared, &kept, &bits}) {
        const auto& r = m == &shared ? r_shared : m == &kept ? r_kept : r_bits;
        const char* which = m == &shared ? ", shared" : m == &kept ? ", outputs kept" : ", spike bits for ψ";
        BOOST_TEST_CONTEXT(s.name << ", batch of " << b << which << " against nothing shared") {
          BOOST_TEST(r.loss == r_alone.loss);
          BOOST_TEST(r.correct == r_alone.correct);
          BOOST_TEST(same_bits(std::span(m->logits_sum(), b * Net::num_outputs), std::span(alone.logits_sum(), b * Net::num_outputs)));
          BOOST_TEST(same_bits(m->gradients(), alone.gradients()));
          BOOST_TEST(same_bits(m->parameters(), alone.parameters()));
          BOOST_TEST(same_bits(m->statistics(), alone.statistics()));
        }
      }
    }
  }
  const sf::step_encoder eval_input([](int t, float* x) {
    for (int i = 0; i < B * static_cast<int>(Net::input_size); ++i) x[i] = static_cast<float>((i * 5 + t) % 13) / 6.f;
  });
  const int correct = sf::evaluate_batch(alone, B, T, eval_input, labels);
  for (auto* m : {&shared, &kept, &bits}) {
    BOOST_TEST(sf::evaluate_batch(*m, B, T, eval_input, labels) == correct);
    BOOST_TEST(same_bits(std::span(m->logits_sum(), B * Net::num_outputs), std::span(alone.logits_sum(), B * Net::num_outputs)));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(mlp_with_dropout) { check_shared_equals_kept<MlpDropout>(); }
BOOST_AUTO_TEST_CASE(vgg_like_ottt_with_scale_and_pooling) { check_shared_equals_kept<VggLike>(); }
BOOST_AUTO_TEST_CASE(sltt_with_max_pooling_and_dropout2d) { check_shared_equals_kept<MaxPooled>(); }
BOOST_AUTO_TEST_CASE(ottt_with_batch_norm) { check_shared_equals_kept<BatchNormed>(); }
BOOST_AUTO_TEST_CASE(sltt_preact_residual_blocks) { check_shared_equals_kept<Residual>(); }

BOOST_AUTO_TEST_CASE(output_of_refuses_a_shared_output_and_says_how_to_keep_it) {
  sf::cpu::model<MlpDropout> shared(2, 0, 1), kept(2, 0, 1, sf::plan_options{.keep_outputs = true});
  try {
    (void)shared.output_of(3);
    BOOST_FAIL("output_of returned a shared buffer");
  } catch (const std::logic_error& e) {
    BOOST_TEST(std::string(e.what()).find("keep_outputs") != std::string::npos);
  }
  BOOST_TEST(kept.output_of(3) != nullptr);
  // A Flatten reads its source's buffer: refused when that is shared.
  sf::cpu::model<VggLike> vgg(2, 0, 1);
  BOOST_CHECK_THROW((void)vgg.output_of(12), std::logic_error);
  BOOST_CHECK_THROW((void)vgg.output_trace_of(12), std::logic_error);
  BOOST_CHECK_THROW(sf::cpu::model<VggLike>(2, 0, 1, sf::plan_options{.untouched_outputs = std::vector<bool>(14, false)}),
                    std::invalid_argument);
  sf::plan_options no_columns;
  no_columns.im2col_columns = false;  // another backend's layout: the CPU convolves through columns
  BOOST_CHECK_THROW(sf::cpu::model<VggLike>(2, 0, 1, no_columns), std::invalid_argument);
  BOOST_TEST(shared.trace_of(3) != nullptr);  // state is never shared
  BOOST_TEST(shared.output_of(0) == shared.input());  // nor the input
}
