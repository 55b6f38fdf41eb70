// Trains small networks for a few batches and writes every parameter's bytes to argv[1]. CTest
// builds it twice, with the loops marked SF_CPU_CLONES (config.hpp) and with
// -DSPIKEFUSE_NO_CPU_CLONES, and compares the two files: the clone the CPU picks (AVX2 or AVX-512
// where there is one) must give the baseline loop's results bit for bit.
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
#if defined(SPIKEFUSE_NO_CPU_CLONES)
  std::printf("the baseline loops only\n");
#elif defined(__x86_64__)
  std::printf("this CPU runs the %s clone\n", __builtin_cpu_supports("avx512f") ? "x86-64-v4 (or v3)"
                                              : __builtin_cpu_supports("avx2")  ? "x86-64-v3"
                                                                                : "default");
#endif
  train<OtttNet>(out, sf::optimizer_kind::adam, {});
  train<OtttNet>(out, sf::optimizer_kind::sgd, sf::plan_options{.psi_from_spike_bits = true});
  train<SlttNet>(out, sf::optimizer_kind::adamw, {});
  train<SlttNet>(out, sf::optimizer_kind::adam, sf::plan_options{.psi_from_spike_bits = true});
  return std::fclose(out) == 0 ? 0 : 1;
}
