// The CUDA convolution's index kernels (im2col, col2im, scatter, gather; backend/cuda/conv2d.cuh) and the channel walk, split and moments of its reductions, against the CPU lowering, on the host.
//
// The kernels' bodies are host-callable, so every element of every chunk is computed here, without
// a GPU, and compared bit for bit with backend/cpu/conv2d.hpp's im2col / col2im_add (col2im adds
// in the same (ki, kj) order, so the sums are identical) and with the NCHW ↔ GEMM-layout
// definition for scatter and gather. Geometries: stride 2 with padding, a non-square plane, a 1×1
// kernel, a window larger than the stride, and a batch that leaves a short last chunk.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <spikefuse/backend/cpu/conv2d.hpp>
#include <spikefuse/backend/cuda/conv2d.cuh>

#include "../support/expect.hpp"

namespace sf = spikefuse;
using spikefuse::testing::expect;
using spikefuse::testing::failures;
namespace sfc = spikefuse::cuda;

namespace {


template <sf::conv_geometry G>
void check_geometry(const char* name, int batch) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const long long in_per_sample = static_cast<long long>(G.in_c) * G.in_pixels();
  const long long out_per_sample = static_cast<long long>(G.out_c) * G.out_pixels();
  std::vector<float> x(static_cast<std::size_t>(batch * in_per_sample));
  for (auto& v : x) v = u(rng);
  std::vector<float> bias(static_cast<std::size_t>(G.out_c));
  for (auto& v : bias) v = u(rng);
  const int chunk = G.samples_per_chunk(batch);
  constexpr int rows = G.column_rows(), pixels = G.out_pixels();
  long long mismatches = 0, chunks = 0;
  G.for_each_chunk(batch, [&](int first, int count, long long ld) {
    ++chunks;
    const int n = static_cast<int>(ld);
    // im2col
    std::vector<float> col_gpu(static_cast<std::size_t>(rows * ld)), col_cpu(col_gpu.size());
    const sfc::im2col_op<G> lower{x.data(), col_gpu.data(), first, n};
    for (long long i = 0; i < rows * ld; ++i) lower(i);
    for (int s = 0; s < count; ++s)
      sf::cpu::im2col(G, x.data() + (first + s) * in_per_sample, col_cpu.data() + static_cast<long long>(s) * pixels, ld);
    for (std::size_t i = 0; i < col_gpu.size(); ++i) mismatches += col_gpu[i] != col_cpu[i];
    // col2im (overwrites the chunk's samples; the CPU adds into zeros)
    std::vector<float> dx_gpu(x.size(), -7.f), dx_cpu(x.size(), 0.f);
    const sfc::col2im_op<G> fold{col_cpu.data(), dx_gpu.data(), first, n};
    for (long long i = 0; i < count * in_per_sample; ++i) fold(i);
    for (int s = 0; s < count; ++s)
      sf::cpu::col2im_add(G, col_cpu.data() + static_cast<long long>(s) * pixels, ld, dx_cpu.data() + (first + s) * in_per_sample);
    for (long long i = first * in_per_sample; i < (first + count) * in_per_sample; ++i) mismatches += dx_gpu[i] != dx_cpu[i];
    // scatter: product [Cₒ × ld] → NCHW (+ bias); gather: NCHW → [Cₒ × ld]
    std::vector<float> product(static_cast<std::size_t>(G.out_c * ld));
    for (auto& v : product) v = u(rng);
    std::vector<float> out(static_cast<std::size_t>(batch * out_per_sample), -7.f), gathered(product.size(), -7.f);
    const sfc::scatter_bias_op<G> scatter{product.data(), bias.data(), out.data(), first, n};
    for (long long i = 0; i < count * out_per_sample; ++i) scatter(i);
    const sfc::gather_op<G> gather{out.data(), gathered.data(), first, n};
    for (long long i = 0; i < count * out_per_sample; ++i) gather(i);
    for (int s = 0; s < count; ++s)
      for (int o = 0; o < G.out_c; ++o)
        for (int p = 0; p < pixels; ++p) {
          const float gemm_value = product[static_cast<std::size_t>(o * ld + s * pixels + p)];
          const float nchw = out[static_cast<std::size_t>((first + s) * out_per_sample + o * pixels + p)];
          mismatches += nchw != gemm_value + bias[static_cast<std::size_t>(o)];
          mismatches += gathered[static_cast<std::size_t>(o * ld + s * pixels + p)] != nchw;
        }
  });
  std::printf("%-34s batch %3d: %lld chunks of up to %d samples, %lld mismatches\n", name, batch, chunks, chunk, mismatches);
  expect(mismatches == 0, std::string(name) + ": index kernels equal the CPU lowering");
}

/// The channel walk of BatchNorm and the bias-gradient sums (backend/cuda/reduce.cuh): element j of
/// channel c, with the shape as constants, against the NCHW formula in 64 bits.
template <int Channels, int Plane>
void check_channel_walk(int batch) {
  long long mismatches = 0;
  for (int c = 0; c < Channels; ++c)
    for (long long j = 0; j < static_cast<long long>(batch) * Plane; ++j)
      mismatches += sfc::channel_element<Channels, Plane>(static_cast<int>(j), c) != ((j / Plane) * Channels + c) * Plane + j % Plane;
  std::printf("channel walk %4d channels x %5d pixels, batch %3d: %lld mismatches\n", Channels, Plane, batch, mismatches);
  expect(mismatches == 0, "channel_element equals the NCHW formula");
}

/// The split of a channel among blocks (reduce.cuh's channel_split): ranges that tile [0, count)
/// in order, none empty, each starting on a warp boundary, at most channel_max_parts; the layers'
/// choice fills about channel_target_blocks blocks without ranges under the minimum.
void check_split(long long count, int channels) {
  const sfc::channel_split split = sfc::split_channel(count, channels);
  std::vector<sfc::channel_split> all = {split};
  for (int wanted : {1, 2, 3, 7, sfc::channel_max_parts, 1000}) all.push_back(sfc::channel_split::into(count, wanted));
  long long bad = 0;
  for (const auto& s : all) {
    bad += s.parts < 1 || s.parts > sfc::channel_max_parts || s.per_part % sfc::channel_part_granule != 0;
    bad += s.begin(0) != 0 || s.end(s.parts - 1, static_cast<int>(count)) != count;
    for (int p = 0; p < s.parts; ++p) {
      bad += s.end(p, static_cast<int>(count)) <= s.begin(p);  // not empty
      if (p + 1 < s.parts) bad += s.end(p, static_cast<int>(count)) != s.begin(p + 1);
    }
  }
  bad += split.parts > 1 && count / split.parts < sfc::channel_part_min_elements - sfc::channel_part_granule;
  bad += static_cast<long long>(split.parts - 1) * channels >= sfc::channel_target_blocks + channels;
  std::printf("channel split %10lld elements x %4d channels: %2d ranges of %9d, %lld bad\n", count, channels, split.parts,
              split.per_part, bad);
  expect(bad == 0, "channel_split tiles the channel: " + std::to_string(count) + " x " + std::to_string(channels));
}

/// The one-pass variance about a shift (reduce.cuh's moments_from_shifted_sums) against two passes
/// in long double, for data whose mean is 10^4 standard deviations from zero.
void check_shifted_moments(float mean, float deviation, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> x(mean, deviation);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = x(rng);
  long double sum = 0, squares = 0;
  for (float e : v) sum += e;
  const long double mu = sum / n;
  for (float e : v) squares += (e - mu) * (e - mu);
  const double shift = v[0];
  double d_sum = 0, d_squares = 0;
  for (float e : v) {
    const double d = e - shift;
    d_sum += d;
    d_squares += d * d;
  }
  const auto m = sfc::moments_from_shifted_sums(shift, d_sum, d_squares, n);
  const double mean_error = std::fabs(static_cast<double>((m.mean - mu) / std::sqrt(squares / n)));
  const double var_error = std::fabs(static_cast<double>((m.squares - squares) / squares));
  std::printf("shifted moments, mean %g sd %g n %d: mean off by %.1e sd, variance by %.1e\n", mean, deviation, n, mean_error,
              var_error);
  // A float's rounding is 6e-8: μ and σ² must be exact far below it.
  expect(mean_error < 1e-10 && var_error < 1e-10, "the shifted one-pass moments equal two passes");
}

static_assert(sfc::split_channel(131072, 64).parts == 16, "64 channels of 131,072 get 16 ranges (1,024 blocks)");
static_assert(sfc::split_channel(2048, 512).parts == 1, "512 channels of 2,048 keep one block each");

}  // namespace

int main() {
  check_split(245, 3);
  check_split(16384, 64);
  check_split(131072, 64);   // ResNet-18's first stage at batch 128: 16 ranges
  check_split(2048, 512);    // its last stage: one range per channel
  check_split(307200, 1);
  check_split(50176, 8);
  check_split(33, 5000);
  check_split(2147483647LL - 256, 2);
  check_shifted_moments(3.f, 2.f, 100000, 11u);
  check_shifted_moments(1e4f, 1.f, 100000, 12u);
  check_shifted_moments(-50.f, 1e-3f, 4096, 13u);
  check_channel_walk<3, 49>(5);
  check_channel_walk<64, 1024>(3);
  check_channel_walk<512, 16>(9);
  // conv_geometry{in_c, in_h, in_w, out_c, out_h, out_w, kernel, stride, padding}
  check_geometry<sf::conv_geometry{3, 9, 7, 4, 5, 4, 3, 2, 1}>("3x9x7 -> 4, k3 s2 p1", 5);
  check_geometry<sf::conv_geometry{2, 6, 6, 3, 6, 6, 1, 1, 0}>("2x6x6 -> 3, k1", 4);
  check_geometry<sf::conv_geometry{4, 8, 8, 2, 3, 3, 5, 2, 1}>("4x8x8 -> 2, k5 s2 p1", 3);
  // Padding wider than half the window, and a stride of 3: the CPU loops' column spans at both edges.
  check_geometry<sf::conv_geometry{2, 5, 4, 3, 7, 6, 3, 1, 2}>("2x5x4 -> 3, k3 p2", 3);
  check_geometry<sf::conv_geometry{3, 11, 10, 2, 4, 4, 3, 3, 1}>("3x11x10 -> 2, k3 s3 p1", 2);
  check_geometry<sf::conv_geometry{1, 3, 3, 2, 3, 3, 5, 1, 2}>("1x3x3 -> 2, k5 p2 (window over the plane)", 2);
  check_geometry<sf::conv_geometry{2, 2, 2, 3, 2, 2, 7, 1, 3}>("2x2x2 -> 3, k7 p3 (padding over the plane)", 3);
  // 32x32x32 -> 32, k3 p1: 12 samples per chunk, so batch 30 is chunks of 12, 12 and 6.
  check_geometry<sf::conv_geometry{32, 32, 32, 32, 32, 32, 3, 1, 1}>("32x32x32 -> 32, k3 p1 (chunked)", 30);
  std::printf("%s: %d failed checks\n", failures ? "FAILED" : "PASSED", failures);
  return failures ? 1 : 0;
}
