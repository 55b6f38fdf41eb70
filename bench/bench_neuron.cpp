// CPU benchmark: one online step of the fused LIF loops alone (forward keeping ψ or spike bits, then
// backward ∂x = ∂s·ψ), 1M and 16M neurons, for the neurons the reference networks use. Bytes
// counted: what the step must read and write, 4 B per float and 1/8 B per spike bit.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

namespace {

template <class Neuron>
void online_step(benchmark::State& state) {
  const long long n = state.range(0);
  constexpr bool bits = sf::lif::psi_from_state_exact<Neuron::params>;
  constexpr bool trace = Neuron::keeps_trace;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.5f, 1.5f);
  std::vector<float> x(n), grad_spike(n), v(n, 0.f), trace_state(trace ? n : 0, 0.f), spike(n), grad_x(n);
  std::vector<float> psi(bits ? 0 : n);
  std::vector<std::uint32_t> spike_bits(bits ? sf::lif::spike_bit_words(n) : 0);
  for (auto& e : x) e = u(rng);
  for (auto& e : grad_spike) e = u(rng);
  const sf::lif::surrogate_record record{bits ? nullptr : psi.data(), bits ? spike_bits.data() : nullptr};
  const sf::lif::surrogate_source source{bits ? nullptr : psi.data(), bits ? spike_bits.data() : nullptr, v.data()};
  for (auto _ : state) {
    sf::cpu::lif_forward<Neuron>(sf::phase::train, n, x.data(), v.data(), trace ? trace_state.data() : nullptr,
                                 spike.data(), record);
    sf::cpu::lif_backward<Neuron>(n, grad_spike.data(), source, grad_x.data());
    benchmark::DoNotOptimize(grad_x.data());
    benchmark::ClobberMemory();
  }
  // Forward: x and v in, v and s out, â in and out, ψ out (or a bit). Backward: ∂s in, ψ in (or the
  // bit and v), ∂x out.
  const double forward_floats = 4 + (trace ? 2 : 0) + (bits ? 0 : 1);
  const double backward_floats = 3;
  const double per_neuron = 4.0 * (forward_floats + backward_floats) + (bits ? 2.0 / 8.0 : 0.0);
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations()) * n * per_neuron));
  state.counters["neurons"] = static_cast<double>(n);
}

// SpikingJelly's SLTTLIFNode (hard reset: ψ kept), its OTTTLIFNode (soft reset, trace: bits), and
// the SLTT paper's neuron (soft reset, triangle surrogate: bits).
BENCHMARK_TEMPLATE(online_step, sf::SLTTLIF<>)->Arg(1 << 20)->Arg(1 << 24)->UseRealTime();
BENCHMARK_TEMPLATE(online_step, sf::OTTTLIF<>)->Arg(1 << 20)->Arg(1 << 24)->UseRealTime();
BENCHMARK_TEMPLATE(online_step, sf::SLTTPaperLIF)->Arg(1 << 20)->Arg(1 << 24)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
