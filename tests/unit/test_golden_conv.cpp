// Golden parity, small convolutional nets against SpikingJelly (tests/golden/generate_golden_conv.py):
// per-step logits, losses and first-layer spikes, every parameter gradient and parameter after each
// batch, BatchNorm running statistics, and eval-mode logits, for
//   ottt_a    Conv → OTTTLIF → AvgPool → WSConv → OTTTLIF → global pool → Linear         (OTTT_A)
//   ottt_max  the same with MaxPool, Scale(2.74) and a WSLinear head                      (OTTT_A)
//   sltt_bn   Conv → BN → SLTTLIF → AvgPool → WSConv → BN → SLTTLIF → global pool → Linear (SLTT)
//   sltt_res  the SLTT pre-activation ResNet pattern: two PreActBlocks (identity shortcut on the
//             spikes, then a strided one with a 1×1 shortcut), BN everywhere, the SLTT paper's neuron
#define BOOST_TEST_MODULE golden_conv
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "spikefuse/models/sltt_resnet18.hpp"
#include "spikefuse/spikefuse.hpp"
#include "support/golden.hpp"

namespace sf = spikefuse;
using sf::test::golden_file;
using sf::test::max_relative_error;

namespace {

inline constexpr sf::conv_opts same{.padding = 1};

using OtttA = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, same>, sf::OTTTLIF<>, sf::AvgPool2d<2>, sf::WSConv2d<6, 3, same>,
                          sf::OTTTLIF<>, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<3>>;
using OtttMax = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, same>, sf::OTTTLIF<>, sf::MaxPool2d<2>, sf::WSConv2d<6, 3, same>,
                            sf::OTTTLIF<>, sf::Scale<2.74f>, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::WSLinear<3>>;
using SlttBn = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, same>, sf::BatchNorm2d<>, sf::SLTTLIF<>, sf::AvgPool2d<2>,
                           sf::WSConv2d<6, 3, same>, sf::BatchNorm2d<>, sf::SLTTLIF<>, sf::AdaptiveAvgPool2d<1>, sf::Flatten,
                           sf::Linear<3>>;
using SlttRes = sf::Network<sf::Input<2, 8, 8>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1, .bias = false}>,
                            sf::models::preact_block<4, 4, 1, sf::SLTTPaperLIF>, sf::models::preact_block<4, 8, 2, sf::SLTTPaperLIF>,
                            sf::BatchNorm2d<>, sf::SLTTPaperLIF, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<3>>;

// Normwise relative error per tensor (support/golden.hpp), as in the MLP test: convolutions sum in
// another order than PyTorch's, so only a normwise bound is meaningful for entries whose terms cancel.
constexpr double tolerance = 1e-5;
// A bias in front of a train-mode BatchNorm has an exact gradient of zero: the batch mean removes a
// per-channel shift. A WS gain in front of one is nearly zero-gradient: BN removes a per-channel
// scale up to its ε. Both frameworks hold only rounding noise there (~1e-8 of the largest gradient),
// which no relative comparison can match; those tensors are checked to be ≈ 0 on both sides instead,
// below `zero_gradient_bound` times the largest gradient of the network.
constexpr double zero_gradient_bound = 1e-5;


template <class Net>
struct golden_run {
  const golden_file& g;
  std::string run;
  sf::cpu::model<Net> model{4, 1, 0, sf::plan_options{.keep_outputs = true}};  // spikes read for the flip count

  std::vector<std::string> zero_gradient;  // tensors whose exact gradient is (nearly) zero, see above

  golden_run(const golden_file& file, std::string name, std::vector<std::string> zero = {})
      : g(file), run(std::move(name)), zero_gradient(std::move(zero)) {
    for (const auto& t : model.tensors()) {
      const auto& init = g[run + "/init/" + t.name].values;
      BOOST_TEST_REQUIRE(init.size() == static_cast<std::size_t>(t.size), t.name);
      std::copy(init.begin(), init.end(), model.tensor(t).begin());
    }
    for (const auto& t : model.statistic_tensors()) {
      const auto& init = g[run + "/init/" + t.name].values;
      BOOST_TEST_REQUIRE(init.size() == static_cast<std::size_t>(t.size), t.name);
      std::copy(init.begin(), init.end(), model.statistics().begin() + t.offset);
    }
  }

  std::span<const float> statistic(const sf::parameter_tensor& t) const {
    return model.statistics().subspan(static_cast<std::size_t>(t.offset), static_cast<std::size_t>(t.size));
  }

  void check_gradients(const std::string& prefix) {
    double largest = 0;
    for (const auto& t : model.tensors())
      for (float v : g[prefix + "grad/" + t.name].values) largest = std::max(largest, static_cast<double>(std::fabs(v)));
    for (const auto& t : model.tensors()) {
      const auto& expected = g[prefix + "grad/" + t.name].values;
      const auto got = model.tensor_grad(t);
      if (std::find(zero_gradient.begin(), zero_gradient.end(), t.name) != zero_gradient.end()) {
        double ours = 0, theirs = 0;
        for (std::size_t i = 0; i < expected.size(); ++i) {
          ours = std::max(ours, static_cast<double>(std::fabs(got[i])));
          theirs = std::max(theirs, static_cast<double>(std::fabs(expected[i])));
        }
        BOOST_TEST(theirs <= zero_gradient_bound * largest, prefix << "grad/" << t.name << " is not ~0 in SpikingJelly");
        BOOST_TEST(ours <= zero_gradient_bound * largest, prefix << "grad/" << t.name << " is not ~0: " << ours);
        continue;
      }
      BOOST_TEST(max_relative_error(got, expected) <= tolerance, prefix << "grad/" << t.name);
    }
  }

  void train(bool constant_target, std::size_t first_neuron) {
    const int T = static_cast<int>(g["conv/T"].scalar());
    const int B = static_cast<int>(g["conv/B"].scalar());
    const int batches = static_cast<int>(g["conv/batches"].scalar());
    sf::optimizer opt(sf::optimizer_config{.kind = sf::optimizer_kind::sgd, .momentum = g["conv/momentum"].scalar()});
    const sf::loss_config loss{.mse_weight = g["conv/lambda"].scalar(), .constant_mse_target = constant_target};
    const float lr = g["conv/lr"].scalar();
    constexpr int features = Net::input_size;
    for (int b = 0; b < batches; ++b) {
      const std::string bp = run + "/b" + std::to_string(b) + "/";
      const auto& x = g[run + "/x_b" + std::to_string(b)].values;  // [B, T, 2, 8, 8]
      const auto& label_f = g[run + "/label_b" + std::to_string(b)].values;
      const std::vector<std::uint8_t> labels(label_f.begin(), label_f.end());
      const sf::step_encoder encode = [&](int t, float* in) {
        for (int r = 0; r < B; ++r)
          std::copy_n(x.begin() + (static_cast<long long>(r) * T + t) * features, features, in + r * features);
      };
      sf::train_hooks hooks;
      int checked = 0;
      hooks.after_forward = [&](int t, float loss_t) {
        const std::string sp = bp + "t" + std::to_string(t) + "/";
        BOOST_TEST_CONTEXT(sp) {
          BOOST_TEST(max_relative_error({model.logits(), static_cast<std::size_t>(B) * 3}, g[sp + "logits"].values) <= tolerance);
          BOOST_TEST(std::fabs(loss_t - g[sp + "loss"].scalar()) <= tolerance * std::fabs(g[sp + "loss"].scalar()));
          const auto& spikes = g[sp + "s0"].values;
          int flips = 0;
          for (std::size_t i = 0; i < spikes.size(); ++i) flips += model.output_of(first_neuron)[i] != spikes[i];
          BOOST_TEST(flips == 0, "first-layer spikes differ in " << flips << " of " << spikes.size() << " places");
        }
        ++checked;
      };
      int gradient_checks = 0;
      hooks.before_batch_update = [&] {
        check_gradients(bp);
        ++gradient_checks;
      };
      const std::vector<char> every_step(static_cast<std::size_t>(T), 1);
      sf::train_batch(model, opt, lr, B, T, encode, labels, loss, sf::update_schedule::per_batch, every_step, hooks);
      BOOST_TEST(checked == T);
      BOOST_TEST(gradient_checks == 1);
      for (const auto& t : model.tensors())
        BOOST_TEST(max_relative_error(model.tensor(t), g[bp + "param/" + t.name].values) <= tolerance, bp << "param/" << t.name);
      for (const auto& t : model.statistic_tensors())
        BOOST_TEST(max_relative_error(statistic(t), g[bp + "buffer/" + t.name].values) <= tolerance, bp << "buffer/" << t.name);
    }
    // Evaluation: running statistics for BatchNorm, no trace, no dropout.
    const auto& x = g[run + "/x_eval"].values;
    model.reset_state(B, sf::phase::eval);
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < B; ++r)
        std::copy_n(x.begin() + (static_cast<long long>(r) * T + t) * features, features, model.input() + r * features);
      model.forward(sf::phase::eval);
      const std::string name = run + "/eval/t" + std::to_string(t) + "/logits";
      BOOST_TEST(max_relative_error({model.logits(), static_cast<std::size_t>(B) * 3}, g[name].values) <= tolerance, name);
    }
  }
};

const golden_file& data() {
  static const golden_file g(sf::test::golden_dir() + "/conv.txt");
  return g;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ottt_conv_net_with_avg_pooling_and_ws_matches_spikingjelly) {
  golden_run<OtttA>(data(), "ottt_a").train(false, 2);
}

BOOST_AUTO_TEST_CASE(ottt_conv_net_with_max_pooling_scale_and_ws_linear_matches_spikingjelly) {
  golden_run<OtttMax>(data(), "ottt_max").train(false, 2);
}

BOOST_AUTO_TEST_CASE(sltt_conv_net_with_batch_norm_matches_spikingjelly) {
  golden_run<SlttBn>(data(), "sltt_bn", {"conv0.bias", "wsconv0.bias", "wsconv0.gain"}).train(true, 3);
}

BOOST_AUTO_TEST_CASE(sltt_preact_residual_blocks_match_spikingjelly) {
  // Every conv bias here feeds a BatchNorm, directly or through a residual sum.
  golden_run<SlttRes>(data(), "sltt_res", {"conv1.bias", "conv2.bias", "conv3.bias", "conv4.bias", "conv5.bias"})
      .train(true, 3);
}
