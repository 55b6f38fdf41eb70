// The CUDA neuron kernels that keep spike bits instead of ψ (soft reset: ψ recomputed from the
// membrane, neuron/surrogate_record.hpp) against the same kernels keeping ψ: bit-identical ∂x, and
// the same spikes, membrane, trace and pooled outputs, over several online steps (forward, then
// backward, per step). Covers the warp packing of every width the kernels use — 4 bits per thread
// (the plain kernel), and 1, 2, 4, 8 and 16 bits per pooling window — with element counts that end
// inside a thread, a warp and a block, the bias-reducing backward and a fused Scale. The word buffer
// is filled with zeros before one run and ones before the other, so a word the forward fails to
// write shows as a mismatch either way.
//
// Without a GPU it exits 77 (skipped): the kernels here only run on a device.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <spikefuse/spikefuse.hpp>
#include <spikefuse/backend/cuda/lif.cuh>
#include <spikefuse/backend/cuda/device_memory.cuh>
#include <spikefuse/backend/cuda/stream.cuh>

#include "../support/device_test.cuh"
#include "../support/expect.hpp"

namespace sf = spikefuse;
using spikefuse::testing::download;
using spikefuse::testing::expect;
using spikefuse::testing::same_bits;
using spikefuse::testing::upload;
using spikefuse::testing::upload_random;
namespace sfc = spikefuse::cuda;

namespace {

/// One neuron layer's device state and buffers, keeping ψ or spike bits.
struct neuron_run {
  sfc::device_array<float> v, trace, psi, spikes, scaled, scaled_trace, grad_x, grad_bias, partials;
  sfc::device_array<unsigned> arrivals;
  sfc::device_array<float> words;  // spike words, in float-sized slots as in the model's pool
  bool bits;
  neuron_run(long long n, long long words_needed, long long features, bool keep_bits, std::uint32_t fill)
      : v(n), trace(n), psi(n), spikes(n), scaled(n), scaled_trace(n), grad_x(n), grad_bias(features),
        partials(sfc::bias_partial_floats(features)), arrivals(sfc::bias_arrival_counters(features)),
        words(words_needed), bits(keep_bits) {
    SF_CUDA_CHECK(cudaMemset(v.data(), 0, n * sizeof(float)));
    SF_CUDA_CHECK(cudaMemset(trace.data(), 0, n * sizeof(float)));
    SF_CUDA_CHECK(cudaMemset(grad_bias.data(), 0, features * sizeof(float)));
    SF_CUDA_CHECK(cudaMemset(arrivals.data(), 0, arrivals.size() * sizeof(unsigned)));
    SF_CUDA_CHECK(cudaMemset(words.data(), fill ? 0xFF : 0x00, words.size() * sizeof(float)));
    SF_CUDA_CHECK(cudaDeviceSynchronize());  // the legacy stream's memsets before the test stream's kernels
  }
  sf::lif::spike_word* word_ptr() { return bits ? reinterpret_cast<sf::lif::spike_word*>(words.data()) : nullptr; }
  sf::lif::surrogate_record record() { return {bits ? nullptr : psi.data(), word_ptr()}; }
  sf::lif::surrogate_source source() { return {bits ? nullptr : psi.data(), word_ptr(), v.data()}; }
};

/// Plain and bias-reducing kernels, with and without a fused Scale, `batch` × Features neurons.
template <class Neuron, long long Features, bool Scaled, bool Bias>
void check_plain(int batch, int steps, std::uint32_t seed, const sfc::context& ctx) {
  const long long n = static_cast<long long>(batch) * Features;
  const std::string name = std::string("plain n=") + std::to_string(n) + (Scaled ? " scaled" : "") + (Bias ? " bias" : "");
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> current(-0.5f, 2.5f), gradient(-1.f, 1.f);
  sfc::device_array<float> x(n), grad(n), bias(Features);
  std::vector<float> h_bias(Features);
  for (auto& b : h_bias) b = gradient(rng) * 0.2f;
  upload(bias, h_bias);
  for (std::uint32_t fill : {0u, 1u}) {
    neuron_run with_psi(n, 1, Features, false, fill), with_bits(n, sf::lif::spike_bit_words(n), Features, true, fill);
    for (int t = 0; t < steps; ++t) {
      upload_random(x, current, rng);
      upload_random(grad, gradient, rng);
      for (neuron_run* r : {&with_psi, &with_bits}) {
        const sfc::fused_scale scale{2.74f, r->scaled.data(), Neuron::keeps_trace ? r->scaled_trace.data() : nullptr};
        sfc::lif_forward<Neuron, Features, Scaled>(ctx, sf::phase::train, n, x.data(), Bias ? bias.data() : nullptr, r->v.data(),
                                                   Neuron::keeps_trace ? r->trace.data() : nullptr, r->spikes.data(),
                                                   r->record(), scale);
        sfc::lif_backward<Neuron, Features, Scaled>(ctx, batch, grad.data(), r->source(), r->grad_x.data(),
                                                    Bias ? r->grad_bias.data() : nullptr, r->partials.data(),
                                                    r->arrivals.data(), 2.74f);
      }
      SF_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
      const std::string at = name + " fill " + std::to_string(fill) + " step " + std::to_string(t);
      expect(same_bits(download(with_psi.grad_x), download(with_bits.grad_x)), at + ": ∂x");
      expect(same_bits(download(with_psi.spikes), download(with_bits.spikes)), at + ": spikes");
      expect(same_bits(download(with_psi.v), download(with_bits.v)), at + ": v");
      if (Scaled) expect(same_bits(download(with_psi.scaled), download(with_bits.scaled)), at + ": c·s");
      if (Bias) expect(same_bits(download(with_psi.grad_bias), download(with_bits.grad_bias)), at + ": ∂bias");
    }
    // The inputs must make some neurons fire and some not, or the bits prove little.
    const auto s = download(with_bits.spikes);
    long long fired = 0;
    for (float e : s) fired += e != 0.f;
    expect(fired > 0 && fired < n, name + ": some spikes, not all");
  }
}

/// The neuron-and-pooling kernels: spike bits numbered by window (Tiling::bits_per_tile per window).
template <class Neuron, class Pool, class In>
void check_pooled(int planes, int steps, std::uint32_t seed, const sfc::context& ctx) {
  using Out = typename Pool::template output<In>;
  using T = sf::neuron_pool::tiling<Pool, In, Out>;
  static_assert(T::fusable);
  const long long n = static_cast<long long>(planes) * T::in_plane, m = static_cast<long long>(planes) * T::out_plane;
  const std::string name = "pooled " + std::to_string(In::dims.h) + "x" + std::to_string(In::dims.w) + " window " +
                           std::to_string(T::tile_h) + "x" + std::to_string(T::tile_w) + " (" + std::to_string(T::bits_per_tile) +
                           " bits) planes " + std::to_string(planes);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> current(-0.5f, 2.5f), gradient(-1.f, 1.f);
  sfc::device_array<float> x(n), grad_pooled(m);
  for (std::uint32_t fill : {0u, 1u}) {
    neuron_run with_psi(n, 1, 1, false, fill), with_bits(n, sf::lif::spike_bit_words(planes * T::spike_bits_per_plane), 1, true, fill);
    sfc::device_array<float> pooled_a(m), pooled_b(m), pooled_trace_a(m), pooled_trace_b(m);
    for (int t = 0; t < steps; ++t) {
      upload_random(x, current, rng);
      upload_random(grad_pooled, gradient, rng);
      for (auto [r, pooled, pooled_trace] : {std::tuple{&with_psi, &pooled_a, &pooled_trace_a}, std::tuple{&with_bits, &pooled_b, &pooled_trace_b}}) {
        const sf::neuron_pool::forward_buffers b{x.data(), r->v.data(), Neuron::keeps_trace ? r->trace.data() : nullptr,
                                                 r->bits ? nullptr : r->psi.data(), r->spikes.data(), pooled->data(),
                                                 pooled_trace->data()};
        sfc::lif_pool_forward<Neuron, T>(ctx, sf::phase::train, planes, b, r->word_ptr(), 0.5f);
        sfc::lif_pool_backward<Neuron, T>(ctx, planes, grad_pooled.data(), r->source(), r->grad_x.data(), 0.5f);
      }
      SF_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
      const std::string at = name + " fill " + std::to_string(fill) + " step " + std::to_string(t);
      expect(same_bits(download(with_psi.grad_x), download(with_bits.grad_x)), at + ": ∂x");
      expect(same_bits(download(with_psi.spikes), download(with_bits.spikes)), at + ": spikes");
      expect(same_bits(download(pooled_a), download(pooled_b)), at + ": pooled c·s");
      if (Neuron::keeps_trace) expect(same_bits(download(pooled_trace_a), download(pooled_trace_b)), at + ": pooled c·â");
    }
  }
}

template <int C, int H, int W>
using spikes_port = sf::port<sf::shape{C, H, W}, sf::signal::spikes, true>;

}  // namespace

int main() {
  return spikefuse::testing::run_device_checks([](sfc::context& ctx) {
    using Ottt = sf::OTTTLIF<>;
    using Sltt = sf::SLTTPaperLIF;
    // Element counts: one partial thread (n = 5), a partial warp (33), a partial block (1027), and
    // over a block with a thread's tail (64 × 33 = 2112 + 3 per row below).
    check_plain<Ottt, 5, false, false>(1, 4, 1u, ctx);
    check_plain<Ottt, 33, true, false>(1, 4, 2u, ctx);
    check_plain<Sltt, 1027, false, false>(1, 4, 3u, ctx);
    check_plain<Ottt, 67, true, false>(33, 4, 4u, ctx);
    check_plain<Sltt, 131, false, true>(16, 4, 5u, ctx);  // the bias-reducing backward
    check_plain<Ottt, 40, true, true>(70, 4, 6u, ctx);
    // Windows of 1, 2, 4, 8 and 16 bits; partial windows at the plane's edge.
    check_pooled<Ottt, sf::AdaptiveAvgPool2d<5>, spikes_port<3, 5, 5>>(7, 3, 7u, ctx);      // 1×1: 1 bit
    check_pooled<Sltt, sf::AdaptiveAvgPool2d<3, 2>, spikes_port<3, 3, 4>>(11, 3, 8u, ctx);  // 1×2: 2 bits
    check_pooled<Ottt, sf::AvgPool2d<2>, spikes_port<3, 9, 9>>(13, 3, 9u, ctx);             // 2×2, odd plane: 4 bits
    check_pooled<Sltt, sf::AvgPool2d<3>, spikes_port<2, 7, 7>>(9, 3, 10u, ctx);             // 3×3: 9 → 16 bits
    check_pooled<Ottt, sf::AdaptiveAvgPool2d<2, 3>, spikes_port<2, 6, 6>>(10, 3, 11u, ctx); // 3×2: 6 → 8 bits
    check_pooled<Ottt, sf::AdaptiveAvgPool2d<1>, spikes_port<4, 4, 4>>(70, 3, 12u, ctx);    // 4×4: 16 bits
  });
}
