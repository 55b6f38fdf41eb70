// Trains small networks for a few batches and writes every parameter's bytes to argv[1]. CTest
// builds it four times: with the loops marked SF_CPU_CLONES (config.hpp), which run the widest
// clone the CPU has; with -DSPIKEFUSE_NO_CPU_CLONES (the baseline, SSE2); and baseline code for
// the whole program at -march=x86-64-v3 and -march=x86-64-v4, which stand in for the clones a CPU
// with AVX-512 never picks. Every build the CPU can run must write the baseline's bytes.
#include <spikefuse/spikefuse.hpp>

#include <cstdio>
#include <random>
#include <vector>

namespace sf = spikefuse;

namespace {

// OTTT neurons (trace, ψ or spike bits), SLTT neurons with another surrogate, and both optimizers'
// update loops. Sizes above the loops' OpenMP thresholds (32,768 neurons, 65,536 parameters) and
// not multiples of any vector width, so that the threads' ranges and the remainder loops run.
using OtttNet = sf::Network<sf::Input<300>, sf::Linear<509>, sf::OTTTLIF<>, sf::Linear<10>>;
using SlttNet = sf::Network<sf::Input<300>, sf::Linear<509>, sf::SLTTPaperLIF, sf::Linear<10>>;

template <class Net>
void train(std::FILE* out, sf::optimizer_kind kind, sf::plan_options options) {
  constexpr int batch = 67, T = 4;
  sf::cpu::model<Net> model(batch, /*optimizer_slots=*/2, /*seed=*/5, options);
  sf::optimizer opt(sf::optimizer_config{.kind = kind, .weight_decay = 1e-4f});
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> images(static_cast<std::size_t>(batch) * 300);
  std::vector<std::uint8_t> labels(batch);
  for (int iteration = 0; iteration < 4; ++iteration) {
    for (float& x : images) x = u(rng);
    for (auto& l : labels) l = static_cast<std::uint8_t>(rng() % 10);
    const sf::step_encoder direct = [&](int, float* x) { std::copy(images.begin(), images.end(), x); };
    const std::vector<char> every_step(T, 1);
    sf::train_batch(model, opt, 1e-2f, batch, T, direct, labels, sf::loss_config{}, sf::update_schedule::per_batch,
                    every_step);
  }
  const auto p = model.parameters();
  std::fwrite(p.data(), sizeof(float), p.size(), out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_FILE\n", argv[0]);
    return 2;
  }
  std::FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  // What the CPU runs, for compare_probes.cmake: which of the other builds it may start.
  std::printf("x86-64-v3 %s, x86-64-v4 %s\n", __builtin_cpu_supports("x86-64-v3") ? "yes" : "no",
              __builtin_cpu_supports("x86-64-v4") ? "yes" : "no");
  train<OtttNet>(out, sf::optimizer_kind::adam, {});
  train<OtttNet>(out, sf::optimizer_kind::sgd, sf::plan_options{.psi_from_spike_bits = true});
  train<SlttNet>(out, sf::optimizer_kind::adamw, {});
  train<SlttNet>(out, sf::optimizer_kind::adam, sf::plan_options{.psi_from_spike_bits = true});
  return std::fclose(out) == 0 ? 0 : 1;
}
