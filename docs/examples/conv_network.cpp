// Convolutional example (docs/convolutional.md): an SLTT residual network and an OTTT conv net,
// declared, planned and trained for a few batches on a toy task. Compiled and run by CTest
// (docs_conv_network); it fails if the loss does not fall or the toy task is not learnt.
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/models/ottt_vgg11_ws.hpp>
#include <spikefuse/models/sltt_resnet18.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

namespace sf = spikefuse;

// [residual]
// A pre-activation block as SLTT writes it: a = LIF(BN(x)); y = Conv(LIF(BN(Conv(a)))) + shortcut(a).
using Neuron = sf::SLTTPaperLIF;
inline constexpr sf::conv_opts same{.padding = 1};

template <int Channels, int Stride>
using PreAct = sf::Sequence<
    sf::BatchNorm2d<>, Neuron,
    sf::Residual<sf::Body<sf::Conv2d<Channels, 3, sf::conv_opts{.stride = Stride, .padding = 1}>, sf::BatchNorm2d<>,
                          Neuron, sf::Conv2d<Channels, 3, same>>,
                 sf::Shortcut<sf::Conv2d<Channels, 1, sf::conv_opts{.stride = Stride}>>>>;  // Shortcut<> = identity

using SmallResNet = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<8, 3, same>, PreAct<16, 2>,
                                sf::BatchNorm2d<>, Neuron, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<2>>;
// [residual]

// [ottt]
// OTTT: pooling and Scale act on spikes and traces alike; each conv after a neuron takes its weight
// gradient from the (pooled) trace. BatchNorm may follow a convolution, never an OTTT neuron.
using SmallOTTT = sf::Network<sf::Input<1, 8, 8>, sf::WSConv2d<8, 3, same>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                              sf::AvgPool2d<2>, sf::WSConv2d<16, 3, same>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                              sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<2>>;
// [ottt]

// [reference]
static_assert(sf::models::ottt_vgg11_ws<>::parameter_count() == 9'228'362);         // 3×32×32, 10 classes
static_assert(sf::models::sltt_preact_resnet18<100>::parameter_count() == 11'223'076);  // CIFAR-100 head
// [reference]

template <class Net>
bool learns_toy_task(const char* name, sf::training_method method) {
  constexpr int batch = 16, T = 4;
  sf::cpu::model<Net> model(batch, /*optimizer_slots=*/2, /*seed=*/3);
  sf::optimizer adam(sf::optimizer_config{.kind = sf::optimizer_kind::adam});
  // Class 1: a bright top half; class 0: a bright bottom half.
  std::vector<float> images(batch * 64);
  std::vector<std::uint8_t> labels(batch);
  for (int b = 0; b < batch; ++b) {
    labels[b] = b % 2;
    for (int p = 0; p < 64; ++p) images[b * 64 + p] = ((p < 32) == (labels[b] == 1)) ? 1.5f : 0.1f;
  }
  const sf::step_encoder direct = [&](int, float* x) { std::copy(images.begin(), images.end(), x); };
  const std::vector<char> every_step(T, 1);
  const sf::loss_config loss{.mse_weight = 0.05f, .constant_mse_target = method == sf::training_method::sltt};
  double first = 0, last = 0;
  for (int iteration = 0; iteration < 30; ++iteration) {
    const auto r = sf::train_batch(model, adam, 5e-3f, batch, T, direct, labels, loss, sf::schedule_of(method), every_step);
    if (iteration == 0) first = r.loss;
    last = r.loss;
  }
  const int correct = sf::evaluate_batch(model, batch, T, direct, labels);
  std::printf("%s: loss %.4f -> %.4f, accuracy %d/%d\n", name, first, last, correct, batch);
  return last < first && correct == batch;
}

int main() {
  // [plan]
  sf::print(std::cout, sf::make_plan<SmallResNet>(/*batch=*/16, /*time_steps=*/6, /*optimizer_slots=*/2));
  // [plan]
  const bool resnet = learns_toy_task<SmallResNet>("SLTT residual net", sf::training_method::sltt);
  const bool ottt = learns_toy_task<SmallOTTT>("OTTT conv net", sf::training_method::ottt_a);
  return resnet && ottt ? 0 : 1;
}
