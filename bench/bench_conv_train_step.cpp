// CPU benchmark: one training batch (T forward + T backward steps + one SGD update) of the
// convolutional networks on synthetic inputs: OTTT VGG-11-WS and SLTT ResNet-18 on 3×32×32 at T = 6
// (small batches: the CPU here has 2 cores), the Fashion-MNIST CSNN at batch 64, T = 4. Counters:
// the memory plan's bytes (all the model allocates, independent of T) and the process's peak RSS.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <random>
#include <vector>

#include "spikefuse/models/fashion_mnist_csnn.hpp"
#include "spikefuse/models/ottt_vgg11_ws.hpp"
#include "spikefuse/models/sltt_resnet18.hpp"
#include "spikefuse/spikefuse.hpp"

#include "cpu_benchmark_main.hpp"

namespace sf = spikefuse;

namespace {

using CSNN = sf::models::fashion_mnist_csnn<sf::OTTTLIF<>>;  // examples/fashion_mnist_csnn.cpp

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

template <class Net>
void train_batch(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const int T = static_cast<int>(state.range(1));
  const auto method = Net::has_trace ? sf::training_method::ottt_a : sf::training_method::sltt;
  sf::cpu::model<Net> model(batch, 1, 1);
  sf::optimizer opt(sf::optimizer_config{.kind = sf::optimizer_kind::sgd, .momentum = 0.9f});
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 2.f);
  std::vector<float> images(static_cast<std::size_t>(batch) * Net::input_size);
  for (auto& p : images) p = u(rng);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(batch));
  for (auto& l : labels) l = static_cast<std::uint8_t>(rng() % Net::num_outputs);
  const sf::step_encoder encode([&](int, float* x) { std::copy(images.begin(), images.end(), x); }, true);
  const std::vector<char> all(static_cast<std::size_t>(T), 1);
  for (auto _ : state) {
    auto r = sf::train_batch(model, opt, 1e-3f, batch, T, encode, labels, sf::loss_config{}, sf::schedule_of(method), all);
    benchmark::DoNotOptimize(r);
  }
  state.counters["batch"] = batch;
  state.counters["T"] = T;
  state.counters["bytes_planned"] = static_cast<double>(model.allocated_bytes());
  state.counters["peak_rss"] = peak_rss_bytes();
}

}  // namespace

BENCHMARK_TEMPLATE(train_batch, sf::models::ottt_vgg11_ws<>)
    ->Args({4, 6})->Args({4, 12})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);
BENCHMARK_TEMPLATE(train_batch, sf::models::sltt_preact_resnet18<>)
    ->Args({4, 6})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);
BENCHMARK_TEMPLATE(train_batch, CSNN)->Args({64, 4})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);

SPIKEFUSE_CPU_BENCHMARK_MAIN()
