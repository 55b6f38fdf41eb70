// CPU benchmark: one OTTT_A training batch (T forward + T backward steps + one Adam update) of the
// Fashion-MNIST MLP 784-800-10, batch 128, for T = 4, 16, 64; inputs are real-valued, not zeros.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "spikefuse/spikefuse.hpp"

#include "cpu_benchmark_main.hpp"

namespace sf = spikefuse;

namespace {

using OTTTNet = sf::Network<sf::Input<784>, sf::Linear<800>, sf::OTTTLIF<>, sf::Linear<10>>;
using SLTTNet = sf::Network<sf::Input<784>, sf::Linear<800>, sf::SLTTLIF<>, sf::Linear<10>>;
constexpr int batch = 128;

template <class Net>
void train_batch(benchmark::State& state) {
  const int T = static_cast<int>(state.range(0));
  sf::cpu::model<Net> model(batch, 2, 1);
  sf::optimizer opt(sf::optimizer_config{});
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> images(static_cast<std::size_t>(batch) * 784);
  for (auto& p : images) p = u(rng);
  std::vector<std::uint8_t> labels(batch);
  for (auto& l : labels) l = static_cast<std::uint8_t>(rng() % 10);
  const sf::step_encoder encode = [&](int, float* x) { std::copy(images.begin(), images.end(), x); };
  std::vector<char> all(static_cast<std::size_t>(T), 1);
  for (auto _ : state) {
    auto r = sf::train_batch(model, opt, 1e-4f, batch, T, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
    benchmark::DoNotOptimize(r);
  }
  state.counters["T"] = T;
  state.counters["bytes_planned"] = static_cast<double>(model.allocated_bytes());
}

}  // namespace

BENCHMARK_TEMPLATE(train_batch, OTTTNet)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(train_batch, SLTTNet)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

SPIKEFUSE_CPU_BENCHMARK_MAIN()
