// Convolutional layers on the CPU backend against direct formulas: conv forward/backward over several
// column chunks, pooling windows and the max-pool tie rule, Dropout2d masks, batch norm and its
// double channel sums, weight standardisation, and residual blocks (graph, accumulated gradients) by finite differences.
#define BOOST_TEST_MODULE conv_layers
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "spikefuse/models/fashion_mnist_csnn.hpp"
#include "spikefuse/models/ottt_vgg11_ws.hpp"
#include "spikefuse/models/sltt_resnet18.hpp"
#include "spikefuse/models/sltt_vgg11_bn.hpp"
#include "spikefuse/backend/cpu/double_sums.hpp"
#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

// ---- reference networks: parameter counts (PyTorch's counts of the same architectures) ------------
static_assert(sf::models::ottt_vgg11_ws<>::parameter_count() == 9'228'362);   // spec §F.1
static_assert(sf::models::ottt_vgg11_ws<100>::parameter_count() == 9'274'532);
static_assert(sf::models::sltt_preact_resnet18<>::parameter_count() == 11'176'906);  // torch count of spec §F.3
static_assert(sf::models::sltt_vgg11_bn<>::parameter_count() == 9'476'298);          // torch count of spec §F.4
static_assert(sf::models::fashion_mnist_csnn<sf::OTTTLIF<>>::parameter_count() ==
              32 * 9 + 64 + 64 * 32 * 9 + 128 + 3136 * 256 + 256 + 256 * 10 + 10);  // 824,554

// ---- graph of a residual block ------------------------------------------------------------------
using Block = sf::Network<sf::Input<2, 6, 6>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::SLTTLIF<>,
                          sf::Residual<sf::Body<sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::BatchNorm2d<>>>,
                          sf::Residual<sf::Body<sf::Conv2d<8, 3, sf::conv_opts{.stride = 2, .padding = 1}>>,
                                       sf::Shortcut<sf::Conv2d<8, 1, sf::conv_opts{.stride = 2}>>>,
                          sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<3>>;
// Nodes: 1 conv, 2 LIF, 3 conv, 4 BN, 5 add(4, 2), 6 conv s2, 7 shortcut conv, 8 add(6, 7), 9 pool, 10 flatten, 11 linear.
static_assert(Block::depth == 11);
static_assert(Block::source_of<3> == 2 && Block::source_of<5> == 4 && Block::second_source_of<5> == 2);
static_assert(Block::source_of<6> == 5 && Block::source_of<7> == 5 && Block::second_source_of<8> == 7);
static_assert(Block::port_at<8>::dims == sf::shape{8, 3, 3});
static_assert(!Block::is_chain);
static_assert(Block::consumers[2] == 2 && Block::consumers[5] == 2);
static_assert(Block::accumulates_into<3, 2> && !Block::accumulates_into<5, 2>);
static_assert(Block::accumulates_into<6, 5> && !Block::accumulates_into<7, 5>);

namespace {

std::vector<float> random_vector(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

double max_abs_diff(const float* a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Direct convolution in double: out[b][o][y][x] = Σ w[o][c][i][j]·in[b][c][y·s−p+i][x·s−p+j] + bias[o].
std::vector<double> direct_conv(const sf::conv_geometry& g, int batch, const std::vector<float>& in,
                                const std::vector<float>& w, const std::vector<float>& bias) {
  std::vector<double> out(static_cast<std::size_t>(batch) * g.out_c * g.out_pixels());
  for (int b = 0; b < batch; ++b)
    for (int o = 0; o < g.out_c; ++o)
      for (int y = 0; y < g.out_h; ++y)
        for (int x = 0; x < g.out_w; ++x) {
          double s = bias.empty() ? 0.0 : bias[o];
          for (int c = 0; c < g.in_c; ++c)
            for (int i = 0; i < g.kernel; ++i)
              for (int j = 0; j < g.kernel; ++j) {
                const int iy = y * g.stride - g.padding + i, ix = x * g.stride - g.padding + j;
                if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                s += static_cast<double>(w[((o * g.in_c + c) * g.kernel + i) * g.kernel + j]) *
                     in[((static_cast<std::size_t>(b) * g.in_c + c) * g.in_h + iy) * g.in_w + ix];
              }
          out[((static_cast<std::size_t>(b) * g.out_c + o) * g.out_h + y) * g.out_w + x] = s;
        }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_batch_splits_into_the_fewest_chunks_of_even_size) {
  // (C·k² + Cₒ)·HₒWₒ = (288 + 64)·196 = 68,992 floats per sample: 60 fit the default 2²² budget.
  constexpr sf::conv_geometry g{32, 14, 14, 64, 14, 14, 3, 1, 1};
  constexpr long long per_sample = 68992;
  static_assert(g.samples_per_chunk(64) == 32 && g.samples_per_chunk(60) == 60 && g.samples_per_chunk(121) == 41);
  // The scratch planned for a largest batch holds every smaller batch's chunks (60 > 32).
  static_assert(g.scratch_floats(64) == 60 * per_sample && g.scratch_floats(16) == 16 * per_sample);
  for (const long long budget : {per_sample, 3 * per_sample, 4 * per_sample + 1, 60 * per_sample, 1LL << 30}) {
    const long long most = std::max(1LL, budget / per_sample);
    for (int batch = 1; batch <= 300; ++batch) {
      const int chunk = g.samples_per_chunk(batch, budget);
      const long long fewest = (batch + most - 1) / most;
      std::vector<int> counts;
      g.for_each_chunk(
          batch, [&](int first, int count, long long ld) {
            BOOST_TEST(first == std::accumulate(counts.begin(), counts.end(), 0));
            counts.push_back(count);
            BOOST_TEST(ld == static_cast<long long>(count) * g.out_pixels());
          },
          budget);
      BOOST_TEST_INFO("budget " << budget << ", batch " << batch);
      BOOST_TEST_REQUIRE(std::accumulate(counts.begin(), counts.end(), 0LL) == batch);
      BOOST_TEST(static_cast<long long>(counts.size()) == fewest);
      BOOST_TEST(*std::max_element(counts.begin(), counts.end()) == chunk);
      BOOST_TEST(chunk - *std::min_element(counts.begin(), counts.end()) <= 1);
      BOOST_TEST(chunk <= most);
      // Every batch up to 300 fits the scratch planned for 300.
      BOOST_TEST(chunk * per_sample <= g.scratch_floats(300, budget));
    }
  }
}

BOOST_AUTO_TEST_CASE(conv_matches_direct_convolution_over_several_column_chunks) {
  // 64 channels at 20×20: the column budget holds fewer samples than the batch, so chunks are exercised.
  const sf::conv_geometry g{64, 20, 20, 32, 10, 10, 3, 2, 1};
  const int batch = 90;
  BOOST_TEST_REQUIRE(g.samples_per_chunk(batch) < batch);
  const auto in = random_vector(static_cast<std::size_t>(batch) * 64 * 400, 1);
  const auto kept = random_vector(in.size(), 2, 0.f, 2.f);
  const auto w = random_vector(32 * 64 * 9, 3);
  const auto bias = random_vector(32, 4);
  const auto grad_out = random_vector(static_cast<std::size_t>(batch) * 32 * 100, 5);
  std::vector<float> out(grad_out.size()), scratch(static_cast<std::size_t>(g.scratch_floats(batch)));
  sf::cpu::conv2d_forward(g, batch, in.data(), w.data(), bias.data(), out.data(), scratch.data());
  BOOST_TEST(max_abs_diff(out.data(), direct_conv(g, batch, in, w, bias)) < 1e-4);

  std::vector<float> grad_w(w.size(), 0.5f), grad_b(32, 0.25f), grad_in(in.size(), 7.f);
  sf::cpu::conv2d_backward(g, batch, kept.data(), grad_out.data(), w.data(), grad_w.data(), grad_b.data(), grad_in.data(),
                           scratch.data());
  // dW[o][c][i][j] = Σ δ[b][o][y][x]·kept[b][c][iy][ix], accumulated onto 0.5; db onto 0.25.
  std::vector<double> expect_w(w.size(), 0.5), expect_b(32, 0.25), expect_in(in.size(), 0.0);
  for (int b = 0; b < batch; ++b)
    for (int o = 0; o < 32; ++o)
      for (int y = 0; y < 10; ++y)
        for (int x = 0; x < 10; ++x) {
          const double d = grad_out[((static_cast<std::size_t>(b) * 32 + o) * 10 + y) * 10 + x];
          expect_b[o] += d;
          for (int c = 0; c < 64; ++c)
            for (int i = 0; i < 3; ++i)
              for (int j = 0; j < 3; ++j) {
                const int iy = y * 2 - 1 + i, ix = x * 2 - 1 + j;
                if (iy < 0 || iy >= 20 || ix < 0 || ix >= 20) continue;
                const std::size_t at = ((static_cast<std::size_t>(b) * 64 + c) * 20 + iy) * 20 + ix;
                const std::size_t wi = ((o * 64 + c) * 3 + i) * 3 + j;
                expect_w[wi] += d * kept[at];
                expect_in[at] += d * w[wi];
              }
        }
  // Against double sums: dW sums 9,000 float products per entry (|dW| ~ 55; 1.0e-4 measured with
  // OpenBLAS's AVX-512 kernels), the bias is summed in double (one rounding: 3.5e-6, an ulp at 55),
  // ∂x sums 288 (3.1e-6 measured). Bounds about 5x what was measured.
  BOOST_TEST(max_abs_diff(grad_w.data(), expect_w) < 5e-4);
  BOOST_TEST(max_abs_diff(grad_b.data(), expect_b) < 1e-5);
  BOOST_TEST(max_abs_diff(grad_in.data(), expect_in) < 2e-5);
}

// im2col and col2im_add copy or add whole in-plane spans of a row: against the per-element
// definition, bit for bit, with a canary in each row's slack that no write may touch.
BOOST_AUTO_TEST_CASE(im2col_and_col2im_equal_their_definition_at_the_edges) {
  const sf::conv_geometry geometries[] = {
      {2, 5, 4, 3, 7, 6, 3, 1, 2},     // padding 2 with a 3×3 window
      {3, 11, 10, 2, 4, 4, 3, 3, 1},   // stride 3: kernel columns between the strides
      {1, 3, 3, 2, 3, 3, 5, 1, 2},     // the window wider than the plane
      {1, 1, 1, 2, 1, 1, 5, 1, 2},     // a 1×1 plane under a 5×5 window: no column of j = 0 inside
      {2, 2, 2, 3, 2, 2, 7, 1, 3},     // the same with 7×7 and padding 3
      {4, 9, 7, 2, 5, 4, 3, 2, 1},     // stride 2, padding 1
  };
  constexpr float canary = -123.f;
  for (const auto& g : geometries) {
    const int pixels = g.out_pixels(), slack = 5;
    const long long ld = pixels + slack;
    const auto x = random_vector(static_cast<std::size_t>(g.in_c) * g.in_pixels(), 11);
    std::vector<float> col(static_cast<std::size_t>(g.column_rows() * ld), canary), expected = col;
    for (int row = 0; row < g.column_rows(); ++row) {
      const int c = row / (g.kernel * g.kernel), i = (row / g.kernel) % g.kernel, j = row % g.kernel;
      for (int oy = 0; oy < g.out_h; ++oy)
        for (int ox = 0; ox < g.out_w; ++ox) {
          const int iy = oy * g.stride - g.padding + i, ix = ox * g.stride - g.padding + j;
          const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
          expected[static_cast<std::size_t>(row * ld + oy * g.out_w + ox)] =
              inside ? x[static_cast<std::size_t>((c * g.in_h + iy) * g.in_w + ix)] : 0.f;
        }
    }
    sf::cpu::im2col(g, x.data(), col.data(), ld);
    BOOST_TEST(col == expected, "im2col, k" << g.kernel << " s" << g.stride << " p" << g.padding);
    // col2im_add onto a nonzero dx, in the definition's order (c, i, j, oy, ox).
    const auto start = random_vector(x.size(), 12);
    std::vector<float> dx = start, dx_expected = start;
    for (int c = 0; c < g.in_c; ++c)
      for (int i = 0; i < g.kernel; ++i)
        for (int j = 0; j < g.kernel; ++j)
          for (int oy = 0; oy < g.out_h; ++oy)
            for (int ox = 0; ox < g.out_w; ++ox) {
              const int iy = oy * g.stride - g.padding + i, ix = ox * g.stride - g.padding + j;
              if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
              dx_expected[static_cast<std::size_t>((c * g.in_h + iy) * g.in_w + ix)] +=
                  expected[static_cast<std::size_t>(((c * g.kernel + i) * g.kernel + j) * ld + oy * g.out_w + ox)];
            }
    sf::cpu::col2im_add(g, expected.data(), ld, dx.data());
    BOOST_TEST(dx == dx_expected, "col2im_add, k" << g.kernel << " s" << g.stride << " p" << g.padding);
  }
}

BOOST_AUTO_TEST_CASE(a_chunk_of_samples_lowers_and_folds_as_each_sample_alone) {
  // The convolution lowers and folds a chunk of samples in one parallel region over (sample, row)
  // and (sample, channel); each sample's columns sit at s·HₒWₒ within rows of ld ≥ count·HₒWₒ.
  // Sizes on both sides of the parallel threshold: 7×8×8 (small) and 32×14×14 at 6 samples (large).
  const sf::conv_geometry geometries[] = {
      {7, 8, 8, 5, 8, 8, 3, 1, 1},
      {32, 14, 14, 64, 14, 14, 3, 1, 1},
      {4, 9, 7, 2, 5, 4, 3, 2, 1},
  };
  constexpr float canary = -123.f;
  for (const auto& g : geometries) {
    const int count = 6, pixels = g.out_pixels();
    const long long ld = static_cast<long long>(count) * pixels + 3;
    const long long in_size = static_cast<long long>(g.in_c) * g.in_pixels();
    const auto x = random_vector(static_cast<std::size_t>(count * in_size), 21);
    std::vector<float> col(static_cast<std::size_t>(g.column_rows() * ld), canary), expected = col;
    for (int s = 0; s < count; ++s) sf::cpu::im2col(g, x.data() + s * in_size, expected.data() + s * pixels, ld);
    sf::cpu::im2col(g, x.data(), col.data(), ld, count);
    BOOST_TEST(col == expected, "im2col of " << count << " samples, " << g.in_c << " channels");
    const auto start = random_vector(x.size(), 22);
    std::vector<float> dx = start, dx_expected = start;
    for (int s = 0; s < count; ++s) sf::cpu::col2im_add(g, col.data() + s * pixels, ld, dx_expected.data() + s * in_size);
    sf::cpu::col2im_add(g, col.data(), ld, dx.data(), count);
    BOOST_TEST(dx == dx_expected, "col2im_add of " << count << " samples");
    // col2im overwrites: onto zeros, the same as col2im_add.
    std::vector<float> fresh(x.size(), 0.f), overwritten = start;
    sf::cpu::col2im_add(g, col.data(), ld, fresh.data(), count);
    sf::cpu::col2im(g, col.data(), ld, overwritten.data(), count);
    BOOST_TEST(overwritten == fresh, "col2im of " << count << " samples");
  }
}

BOOST_AUTO_TEST_CASE(pooling_windows_follow_pytorch) {
  // avg_pool2d(k 3, s 2, p 1) on 5 positions: windows [0,2) [1,4) [3,5), divisors 3 (padding counts) each.
  const auto w0 = sf::pooling::fixed_window(0, 5, 3, 2, 1), w2 = sf::pooling::fixed_window(2, 5, 3, 2, 1);
  BOOST_TEST((w0.begin == 0 && w0.end == 2 && w0.divisor == 3));
  BOOST_TEST((w2.begin == 3 && w2.end == 5 && w2.divisor == 3));
  // adaptive 5 → 3: [0,2) [1,4) [3,5).
  const auto a1 = sf::pooling::adaptive_window(1, 5, 3);
  BOOST_TEST((a1.begin == 1 && a1.end == 4 && a1.divisor == 3));
}

BOOST_AUTO_TEST_CASE(max_pool_sends_the_gradient_to_the_first_maximum) {
  using In = sf::port<sf::shape{1, 2, 4}, sf::signal::spikes>;
  using Out = sf::port<sf::shape{1, 1, 2}, sf::signal::spikes>;
  const float spikes[8] = {0, 1, 1, 1,   // window 0: (0,0) (0,1) (1,0) (1,1); window 1: (0,2) (0,3) (1,2) (1,3)
                           1, 0, 0, 1};
  float out[2], grad_in[8];
  const float grad_out[2] = {2.f, 3.f};
  sf::cpu::pool_forward<sf::MaxPool2d<2>, In, Out>(1, spikes, out);
  BOOST_TEST(out[0] == 1.f);
  BOOST_TEST(out[1] == 1.f);
  sf::cpu::pool_backward<sf::MaxPool2d<2>, In, Out>(1, spikes, grad_out, grad_in);
  const float expect[8] = {0, 2, 3, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) BOOST_TEST(grad_in[i] == expect[i]);
}

BOOST_AUTO_TEST_CASE(dropout2d_drops_whole_channels_for_the_whole_sequence) {
  using Net = sf::Network<sf::Input<1, 4, 4>, sf::Conv2d<16, 1>, sf::OTTTLIF<>, sf::Dropout2d<0.5f>, sf::Flatten, sf::Linear<2>>;
  sf::cpu::model<Net> m(3, 0, 5, sf::plan_options{.keep_outputs = true});
  for (auto& p : m.parameters()) p = 1.f;  // every unit fires at every step: the mask shows in each
  m.reset_state(3, sf::phase::train);
  int dropped = 0, kept = 0;
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 3 * 16; ++i) m.input()[i] = 3.f;
    m.forward(sf::phase::train);
    const float* spikes = m.output_of(2);
    const float* after = m.output_of(3);
    const float* trace = m.output_trace_of(2);
    const float* trace_after = m.output_trace_of(3);
    for (int bc = 0; bc < 3 * 16; ++bc) {
      const float factor = after[bc * 16] / spikes[bc * 16];  // every unit of a channel fires: inputs are equal
      BOOST_TEST_REQUIRE((factor == 0.f || factor == 2.f));
      for (int p = 0; p < 16; ++p) {
        BOOST_TEST(after[bc * 16 + p] == spikes[bc * 16 + p] * factor);
        BOOST_TEST(trace_after[bc * 16 + p] == trace[bc * 16 + p] * factor);
      }
      if (t == 0) (factor == 0.f ? dropped : kept)++;
    }
  }
  BOOST_TEST(dropped > 5);
  BOOST_TEST(kept > 5);
}

namespace {

// Loss ⟨g, logits⟩ of a network without neurons (smooth): its backward must equal central differences.
template <class Net>
void check_gradients_by_finite_differences(int batch, double tolerance, const char* what = "") {
  sf::cpu::model<Net> m(batch, 0, 9);
  const auto x = random_vector(static_cast<std::size_t>(batch) * Net::input_size, 21);
  const auto g = random_vector(static_cast<std::size_t>(batch) * Net::num_outputs, 22);
  auto loss = [&] {
    m.reset_state(batch, sf::phase::train);
    std::copy(x.begin(), x.end(), m.input());
    m.forward(sf::phase::train);
    double l = 0;
    for (std::size_t i = 0; i < g.size(); ++i) l += static_cast<double>(g[i]) * m.logits()[i];
    return l;
  };
  loss();
  std::copy(g.begin(), g.end(), m.logits_grad());
  m.zero_grad();
  m.backward();
  const std::vector<float> analytic(m.gradients().begin(), m.gradients().end());
  auto params = m.parameters();
  double worst = 0;
  for (std::size_t i = 0; i < params.size(); i += 7) {
    const float keep = params[i];
    const float h = 1e-3f * std::max(1.f, std::fabs(keep));
    params[i] = keep + h;
    const double up = loss();
    params[i] = keep - h;
    const double down = loss();
    params[i] = keep;
    const double numeric = (up - down) / (2.0 * h);
    worst = std::max(worst, std::fabs(numeric - analytic[i]) / std::max(1.0, std::fabs(numeric)));
  }
  BOOST_TEST(worst < tolerance, what << ": worst relative error " << worst);
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_layer_backward_matches_finite_differences) {
  using C = sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>;
  check_gradients_by_finite_differences<sf::Network<sf::Input<2, 6, 6>, C, sf::Flatten, sf::Linear<3>>>(3, 5e-4, "conv");
  check_gradients_by_finite_differences<sf::Network<sf::Input<2, 6, 6>, sf::WSConv2d<4, 3, sf::conv_opts{.stride = 2, .padding = 1}>, sf::Flatten, sf::Linear<3>>>(3, 5e-4, "wsconv");
  check_gradients_by_finite_differences<sf::Network<sf::Input<2, 6, 6>, C, sf::BatchNorm2d<>, sf::Flatten, sf::Linear<3>>>(3, 5e-4, "batch norm");
  // Max pooling is not smooth: the step stays small against the gaps between window values.
  check_gradients_by_finite_differences<sf::Network<sf::Input<2, 6, 6>, C, sf::MaxPool2d<3, 1, 1>, sf::Flatten, sf::Linear<3>>>(3, 5e-4, "max pool");
  check_gradients_by_finite_differences<sf::Network<sf::Input<2, 6, 6>, C, sf::AvgPool2d<3, 2, 1>, sf::AdaptiveAvgPool2d<2>, sf::Flatten, sf::Linear<3>>>(3, 5e-4, "average pools");
  check_gradients_by_finite_differences<sf::Network<sf::Input<2, 6, 6>, C, sf::Flatten, sf::WSLinear<5>, sf::Linear<3>>>(3, 5e-4, "wslinear");
}

BOOST_AUTO_TEST_CASE(residual_blocks_add_the_gradients_of_both_branches) {
  // No neurons: the network is smooth, so finite differences are the exact reference. The identity
  // shortcut makes node 1's output feed two nodes; its gradient must be the sum of both shares.
  using Net = sf::Network<sf::Input<2, 6, 6>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>,
                          sf::Residual<sf::Body<sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::BatchNorm2d<>,
                                                sf::Conv2d<4, 1>>>,
                          sf::Residual<sf::Body<sf::WSConv2d<6, 3, sf::conv_opts{.stride = 2, .padding = 1}>>,
                                       sf::Shortcut<sf::AvgPool2d<2>, sf::Conv2d<6, 1>>>,
                          sf::AvgPool2d<3, 1, 1>, sf::AdaptiveAvgPool2d<2>, sf::Flatten, sf::WSLinear<5>, sf::Linear<3>>;
  check_gradients_by_finite_differences<Net>(3, 5e-4, "residual network");
}

BOOST_AUTO_TEST_CASE(batch_norm_normalises_with_batch_statistics_and_updates_running_ones) {
  using Net = sf::Network<sf::Input<2, 3, 3>, sf::BatchNorm2d<>, sf::Flatten, sf::Linear<2>>;
  sf::cpu::model<Net> m(4, 0, 3, sf::plan_options{.keep_outputs = true});
  const auto x = random_vector(4 * 18, 31, -2.f, 3.f);
  m.reset_state(4, sf::phase::train);
  std::copy(x.begin(), x.end(), m.input());
  m.forward(sf::phase::train);
  for (int c = 0; c < 2; ++c) {
    double mean = 0, sq = 0;
    for (int b = 0; b < 4; ++b)
      for (int p = 0; p < 9; ++p) mean += x[(b * 2 + c) * 9 + p];
    mean /= 36;
    for (int b = 0; b < 4; ++b)
      for (int p = 0; p < 9; ++p) sq += std::pow(x[(b * 2 + c) * 9 + p] - mean, 2);
    for (int b = 0; b < 4; ++b)
      for (int p = 0; p < 9; ++p)
        BOOST_TEST(std::fabs(m.output_of(1)[(b * 2 + c) * 9 + p] - (x[(b * 2 + c) * 9 + p] - mean) / std::sqrt(sq / 36 + 1e-5)) < 1e-6);
    BOOST_TEST(std::fabs(m.statistics()[c] - 0.1 * mean) < 1e-6);
    BOOST_TEST(std::fabs(m.statistics()[2 + c] - (0.9 + 0.1 * sq / 35)) < 1e-6);
  }
  // Evaluation normalises with the running statistics and leaves them alone.
  const std::vector<float> running(m.statistics().begin(), m.statistics().end());
  m.reset_state(4, sf::phase::eval);
  std::copy(x.begin(), x.end(), m.input());
  m.forward(sf::phase::eval);
  BOOST_TEST(std::fabs(m.output_of(1)[0] - (x[0] - running[0]) / std::sqrt(running[2] + 1e-5)) < 1e-5);
  BOOST_TEST((std::vector<float>(m.statistics().begin(), m.statistics().end()) == running));
}

// BatchNorm's and the bias gradient's channel sums: eight partial sums per sum, over planes of any
// length (tails shorter than eight), several planes per channel.
BOOST_AUTO_TEST_CASE(double_sums_equal_one_long_double_sum) {
  for (const int plane : {0, 1, 7, 8, 9, 15, 16, 17, 49, 1000}) {
    const auto x = random_vector(3 * plane + 1, 400 + plane, -2.f, 3.f);
    sf::cpu::double_sums<2> sums;
    long double plain = 0, absolute = 0, squares = 0;
    for (int s = 0; s < 3; ++s) {
      const float* part = x.data() + s * plane;
      sums.add(plane, [part](long long p) { return std::array<double, 2>{part[p], static_cast<double>(part[p]) * part[p]}; });
      for (int p = 0; p < plane; ++p) {
        plain += part[p];
        absolute += std::fabs(part[p]);
        squares += static_cast<long double>(part[p]) * part[p];
      }
    }
    const auto [sum, sum_of_squares] = sums.totals();
    // Recursive summation's bound, n·u·Σ|term| (u = 2⁻⁵³): a term left out or added twice is far above it.
    const long double u_n = 3 * plane * 0x1p-53L;
    BOOST_TEST_CONTEXT("plane " << plane) {
      BOOST_TEST(std::fabs(sum - plain) <= u_n * absolute);
      BOOST_TEST(std::fabs(sum_of_squares - squares) <= u_n * squares);
    }
  }
}

BOOST_AUTO_TEST_CASE(weight_standardisation_matches_its_formula) {
  const auto w = random_vector(12, 41);
  float w_hat[12];
  sf::ws::standardize_row(w.data(), 1.5f, 12, w_hat);
  double mean = 0, sq = 0;
  for (float v : w) mean += v;
  mean /= 12;
  for (float v : w) sq += (v - mean) * (v - mean);
  const double d = std::sqrt(sq / 11 * 12 + 1e-4);
  for (int i = 0; i < 12; ++i) BOOST_TEST(std::fabs(w_hat[i] - 1.5 * (w[i] - mean) / d) < 1e-6);
}

BOOST_AUTO_TEST_CASE(reference_network_steps_on_the_cpu) {
  // A forward + backward of the OTTT VGG on 2 samples of 3×32×32: shapes, finite logits, nonzero gradients.
  using Net = sf::models::ottt_vgg11_ws<>;
  sf::cpu::model<Net> m(2, 1, 1);
  const auto x = random_vector(2 * 3 * 32 * 32, 51, 0.f, 4.f);
  m.reset_state(2, sf::phase::train);
  m.zero_grad();
  for (int t = 0; t < 2; ++t) {
    std::copy(x.begin(), x.end(), m.input());
    m.forward(sf::phase::train);
    for (int i = 0; i < 20; ++i) m.logits_grad()[i] = 0.1f * static_cast<float>(i % 3);
    m.backward();
  }
  for (int i = 0; i < 20; ++i) BOOST_TEST(std::isfinite(m.logits()[i]));
  double norm = 0;
  for (float gr : m.gradients()) norm += static_cast<double>(gr) * gr;
  BOOST_TEST(std::isfinite(norm));
  BOOST_TEST(norm > 0);
}

// ---- reference networks: initialisation as the papers' code does it ------------------------------
// Each tensor's rule by name: "<prefix><k>.<field>" -> init_rule. OTTT (pkuxmq/OTTT-SNN) and SLTT
// (qymeng94/SLTT models/spiking_vgg_bn.py) zero every conv and Linear bias; SLTT's ResNet
// (models/spiking_resnet.py) sets only the conv weights and the Linear bias, so its conv biases and
// Linear weight keep PyTorch's defaults.
namespace {
template <class Net, class Rule>
void check_init_rules(Rule&& expected) {
  int checked = 0;
  for (const auto& t : sf::parameter_layout<Net>()) {
    const auto dot = t.name.find('.');
    const std::string prefix = t.name.substr(0, t.name.find_first_of("0123456789")), field = t.name.substr(dot + 1);
    BOOST_TEST_CONTEXT(t.name) { BOOST_TEST(static_cast<int>(t.init) == static_cast<int>(expected(prefix, field))); }
    ++checked;
  }
  BOOST_TEST(checked > 10);
}
}  // namespace

BOOST_AUTO_TEST_CASE(reference_networks_initialise_as_their_papers_code) {
  using R = sf::init_rule;
  check_init_rules<sf::models::sltt_preact_resnet18<>>([](const std::string& prefix, const std::string& field) {
    if (prefix == "bn") return field == "weight" ? R::ones : R::zeros;
    if (prefix == "conv") return field == "weight" ? R::kaiming_normal_fan_out : R::uniform_fan_in;
    return field == "weight" ? R::uniform_fan_in : R::zeros;  // the classifier Linear
  });
  check_init_rules<sf::models::ottt_vgg11_ws<>>([](const std::string& prefix, const std::string& field) {
    if (field == "gain") return R::ones;
    if (prefix == "wsconv") return field == "weight" ? R::kaiming_normal_fan_out : R::zeros;
    return field == "weight" ? R::normal_0_01 : R::zeros;
  });
  check_init_rules<sf::models::sltt_vgg11_bn<>>([](const std::string& prefix, const std::string& field) {
    if (prefix == "bn") return field == "weight" ? R::ones : R::zeros;
    if (prefix == "conv") return field == "weight" ? R::kaiming_normal_fan_out : R::zeros;
    return field == "weight" ? R::normal_0_01 : R::zeros;
  });

  // The drawn values follow the rules: ResNet-18's conv biases within PyTorch's ±1/√fan_in and not
  // zero, its classifier bias zero, its first conv's weights with the spread of N(0, 2/fan_out).
  using Net = sf::models::sltt_preact_resnet18<>;
  sf::cpu::model<Net> m(1, 0, 7);
  const auto layout = sf::parameter_layout<Net>();
  const auto params = m.parameters();
  int conv_biases = 0;
  for (const auto& t : layout) {
    const float* v = params.data() + t.offset;
    if (t.name.rfind("conv", 0) == 0 && t.name.ends_with(".bias")) {
      ++conv_biases;
      const float bound = 1.f / std::sqrt(static_cast<float>(t.fan_in));
      BOOST_TEST_CONTEXT(t.name) {
        BOOST_TEST(std::all_of(v, v + t.size, [&](float x) { return std::abs(x) <= bound; }));
        BOOST_TEST(std::any_of(v, v + t.size, [](float x) { return x != 0.f; }));
      }
    }
    if (t.name.rfind("linear", 0) == 0 && t.name.ends_with(".bias"))
      BOOST_TEST(std::all_of(v, v + t.size, [](float x) { return x == 0.f; }));
    if (t.name == "conv0.weight") {
      double sum_sq = 0;
      for (long long i = 0; i < t.size; ++i) sum_sq += static_cast<double>(v[i]) * v[i];
      const double expected_sd = std::sqrt(2.0 / t.fan_out);  // 1,728 draws: within 10 %
      BOOST_TEST(std::abs(std::sqrt(sum_sq / static_cast<double>(t.size)) / expected_sd - 1.0) < 0.1);
    }
  }
  BOOST_TEST(conv_biases == 19);  // 16 block convolutions and 3 shortcuts; the stem has no bias
}
