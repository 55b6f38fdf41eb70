// Tutorial example (docs/tutorial.md): declare a network, look at its memory plan, train it online
// through time on a toy task, and evaluate it. Compiled and run by CTest (docs_first_network).
#include <spikefuse/spikefuse.hpp>

#include <cstdio>
#include <iostream>
#include <vector>

namespace sf = spikefuse;

// [declare]
using Net = sf::Network<sf::Input<1, 4, 4>,            // a 4x4 single-channel "image"
                        sf::Flatten,                   // 1x4x4 -> 16 features
                        sf::Linear<32>,                // z = W x + b
                        sf::OTTTLIF<>,                 // OTTT neuron, SpikingJelly's defaults
                        sf::Scale<2.74f>,              // as in the OTTT VGG: scale spikes (and trace)
                        sf::Linear<2>>;                // logits, read at every time step
// [declare]

int main() {
  // [plan]
  const auto plan = sf::make_plan<Net>(/*batch=*/16, /*time_steps=*/8, /*optimizer_slots=*/2);
  sf::print(std::cout, plan);
  // [plan]

  constexpr int batch = 16, T = 8;
  // [model]
  sf::cpu::model<Net> model(batch, /*optimizer_slots=*/2, /*seed=*/1);
  sf::optimizer adam(sf::optimizer_config{.kind = sf::optimizer_kind::adam});
  sf::loss_config loss;  // ((1 - 0.05) CE + 0.05 MSE(one-hot)) / T
  // [model]

  // Toy task: class 1 images are bright in the top half, class 0 in the bottom half.
  std::vector<float> images(batch * 16);
  std::vector<std::uint8_t> labels(batch);
  for (int b = 0; b < batch; ++b) {
    labels[b] = b % 2;
    for (int p = 0; p < 16; ++p) images[b * 16 + p] = ((p < 8) == (labels[b] == 1)) ? 1.f : 0.1f;
  }
  // [step]
  // The same image at every step (direct encoding): `true` tells the trainer so, and layers that see
// only the input then compute once per batch what does not change (the first Linear's output, and
// its weight gradient as one GEMM of the summed ∂ on the CPU).
const sf::step_encoder direct{[&](int /*t*/, float* x) { std::copy(images.begin(), images.end(), x); },
                              /*same_every_step=*/true};
  const std::vector<char> every_step(T, 1);  // OTTT_A: a backward at every step, one update per batch

  double first_loss = 0, last_loss = 0;
  for (int iteration = 0; iteration < 40; ++iteration) {
    const auto r = sf::train_batch(model, adam, 1e-2f, batch, T, direct, labels, loss,
                                   sf::update_schedule::per_batch, every_step);
    if (iteration == 0) first_loss = r.loss;
    last_loss = r.loss;
  }
  const int correct = sf::evaluate_batch(model, batch, T, direct, labels);
  // [step]
  std::printf("loss %.4f -> %.4f, accuracy %d/%d\n", first_loss, last_loss, correct, batch);
  return (last_loss < first_loss && correct == batch) ? 0 : 1;
}
