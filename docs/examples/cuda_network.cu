// docs/cuda.md example: the same declaration and the same training call on the CPU and, when there is
// one, on the GPU. Compiled by nvcc and run by CTest (docs_cuda_network); without a GPU it trains the
// CPU model only and says so.
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/backend/cuda/trainer.cuh>

#include <cstdio>
#include <vector>

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<16>, sf::Linear<32>, sf::OTTTLIF<>, sf::Linear<2>>;

// [train]
// One function for both backends: sf::train_batch forwards to the CUDA loop for a cuda::model.
template <class Model>
int train_and_count_correct(Model& model, const std::vector<float>& images, const std::vector<std::uint8_t>& labels) {
  constexpr int batch = 16, T = 4;
  sf::optimizer adam(sf::optimizer_config{});
  const sf::step_encoder direct([&](int, float* x) { std::copy(images.begin(), images.end(), x); },
                                /*same_every_step=*/true);  // uploaded once per batch on the GPU
  const std::vector<char> every_step(T, 1);
  for (int iteration = 0; iteration < 40; ++iteration)
    sf::train_batch(model, adam, 1e-2f, batch, T, direct, labels, sf::loss_config{}, sf::update_schedule::per_batch,
                    every_step);
  return sf::evaluate_batch(model, batch, T, direct, labels);
}
// [train]

int main() {
  std::vector<float> images(16 * 16);
  std::vector<std::uint8_t> labels(16);
  for (int b = 0; b < 16; ++b) {
    labels[b] = b % 2;
    for (int p = 0; p < 16; ++p) images[b * 16 + p] = ((p < 8) == (labels[b] == 1)) ? 1.f : 0.1f;
  }
  // [models]
  sf::cpu::model<Net> cpu(/*max_batch=*/16, /*optimizer_slots=*/2, /*seed=*/1);
  const int cpu_correct = train_and_count_correct(cpu, images, labels);
  std::printf("CPU: %d/16 correct\n", cpu_correct);
  if (sf::cuda::device_count() > 0) {
    sf::cuda::model<Net> gpu(16, 2, 1, sf::cuda::model_options{.graphs = true});  // same seed: same initial weights
    const int gpu_correct = train_and_count_correct(gpu, images, labels);
    std::printf("GPU (%s): %d/16 correct\n", sf::cuda::device_description().c_str(), gpu_correct);
    if (gpu_correct != cpu_correct) return 1;
  } else {
    std::printf("no CUDA device (%s): the GPU half of this example was skipped\n", sf::cuda::no_device_reason().c_str());
  }
  // [models]
  return cpu_correct == 16 ? 0 : 1;
}
