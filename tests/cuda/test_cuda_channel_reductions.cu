// The CUDA channel reductions split among blocks (backend/cuda/reduce.cuh): BatchNorm2d's forward
// (training and evaluation) and backward, and a convolution's bias gradient, against the CPU
// backend on the same inputs, for the split the layers choose and for forced splits (BatchNorm: 1,
// 2, 7 and 64 ranges per channel; the channel sum: every split of 1 to 64 ranges). Every split must
// agree with the CPU within double-sum rounding (evaluation, which reduces nothing, bit for bit), a
// launch must repeat bit for bit with the partial sums poisoned before it (the arrival counters
// re-arm themselves), parameter gradients must accumulate, and each direction must launch the
// kernels it says. Shapes: a channel shorter than a block, one range per channel (many channels, small
// planes), several ranges (few channels, large planes), the 64-range cap, and a range that ends
// inside a warp.
//
// Without a GPU it exits 77 (skipped): the kernels here only run on a device.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <spikefuse/spikefuse.hpp>
#include <spikefuse/backend/cpu/batch_norm.hpp>
#include <spikefuse/backend/cuda/batch_norm.cuh>
#include <spikefuse/backend/cuda/conv2d.cuh>
#include <spikefuse/backend/cuda/device_memory.cuh>
#include <spikefuse/backend/cuda/stream.cuh>

#include "../support/device_test.cuh"
#include "../support/expect.hpp"

namespace sf = spikefuse;
using spikefuse::testing::download;
using spikefuse::testing::expect;
using spikefuse::testing::same_bits;
using spikefuse::testing::upload;
namespace sfc = spikefuse::cuda;

namespace {

constexpr float kMomentum = 0.1f, kEps = 1e-5f;
using BN = sf::BatchNorm2d<sf::batch_norm_opts{.momentum = kMomentum, .eps = kEps}>;

/// Elements where |a − b| > tol·max(1, |b|).
long long mismatches(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  if (a.size() != b.size()) return -1;
  long long bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) bad += !(std::fabs(a[i] - b[i]) <= tol * std::fmax(1.f, std::fabs(b[i])));
  return bad;
}

/// The model's workspace for `channels`, as cuda::model carves it.
struct workspace {
  sfc::device_array<double> partials, totals;
  sfc::device_array<unsigned> arrivals;
  explicit workspace(int channels)
      : partials(sfc::channel_workspace::partial_doubles(channels)), totals(sfc::channel_workspace::total_doubles(channels)),
        arrivals(channels) {}
  sfc::channel_workspace view(int channels) { return {partials.data(), totals.data(), arrivals.data(), channels}; }
  /// All-ones bytes (NaN) in the partial sums and totals, not in the counters: a sum read before
  /// this launch wrote it shows instead of repeating the previous launch's.
  void poison() {
    SF_CUDA_CHECK(cudaMemset(partials.data(), 0xFF, partials.size() * sizeof(double)));
    SF_CUDA_CHECK(cudaMemset(totals.data(), 0xFF, totals.size() * sizeof(double)));
    SF_CUDA_CHECK(cudaDeviceSynchronize());
  }
};

/// Everything one BatchNorm2d run reads and writes, on the host.
struct bn_result {
  std::vector<float> out, running, saved, grad_in, grad_weight, grad_bias;
  int launches = 0;
};

template <int C, int H, int W>
struct bn_case {
  using In = sf::port<sf::shape{C, H, W}, sf::signal::current>;
  static constexpr int plane = H * W;
  int batch;
  std::vector<float> in, grad_out, weight, bias, running, grad_weight0, grad_bias0;

  bn_case(int batch_size, unsigned seed) : batch(batch_size) {
    std::mt19937 rng(seed);
    // An offset far from zero: the shifted one-pass variance must not lose it to cancellation.
    std::normal_distribution<float> x(3.f, 2.f);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    const std::size_t n = static_cast<std::size_t>(batch) * C * plane;
    in.resize(n);
    grad_out.resize(n);
    for (auto& v : in) v = x(rng);
    for (auto& v : grad_out) v = u(rng);
    for (int c = 0; c < C; ++c) {
      weight.push_back(1.f + 0.5f * u(rng));
      bias.push_back(0.5f * u(rng));
      grad_weight0.push_back(u(rng));  // gradients already accumulated: the layer must add to them
      grad_bias0.push_back(u(rng));
    }
    running.resize(2 * C);
    for (int c = 0; c < C; ++c) {
      running[c] = 0.1f * u(rng);
      running[C + c] = 1.f + 0.5f * u(rng);
    }
  }

  bn_result on_cpu(bool training) const {
    bn_result r{std::vector<float>(in.size()), running, std::vector<float>(2 * C), std::vector<float>(in.size()),
                grad_weight0, grad_bias0};
    std::vector<float> in_copy = in, grad_out_copy = grad_out, weight_copy = weight, bias_copy = bias;
    sf::layer_buffers input, layer;
    input.out = in_copy.data();
    input.grad_out = r.grad_in.data();
    layer.out = r.out.data();
    layer.grad_out = grad_out_copy.data();
    layer.weight = weight_copy.data();
    layer.bias = bias_copy.data();
    layer.statistics = r.running.data();
    layer.saved = r.saved.data();
    layer.grad_weight = r.grad_weight.data();
    layer.grad_bias = r.grad_bias.data();
    using impl = sf::cpu::batch_norm_layer_impl<BN>;
    impl::template forward<In, In>(batch, training ? sf::phase::train : sf::phase::eval, input, layer);
    if (training) impl::template backward<In, In, true>(batch, input, layer);
    return r;
  }

  /// Forward, and in training a backward (into ∂x unless `without_grad_in`).
  bn_result on_gpu(const sfc::context& ctx, workspace& w, bool training, const sfc::channel_split& split,
                   bool without_grad_in = false) const {
    using launch = sfc::batch_norm_launch<C, plane, kMomentum, kEps>;
    sfc::device_array<float> d_in(in.size()), d_out(in.size()), d_grad_out(in.size()), d_grad_in(in.size()), d_weight(C),
        d_bias(C), d_running(2 * C), d_saved(2 * C), d_grad_weight(C), d_grad_bias(C);
    upload(d_in, in);
    upload(d_grad_out, grad_out);
    upload(d_weight, weight);
    upload(d_bias, bias);
    upload(d_running, running);
    upload(d_grad_weight, grad_weight0);
    upload(d_grad_bias, grad_bias0);
    w.poison();
    const int launches_before = ctx.launches->kernels;
    launch::forward(ctx, batch, training, d_in.data(), d_out.data(), d_weight.data(), d_bias.data(), d_running.data(),
                    d_saved.data(), split);
    if (training)
      launch::backward(ctx, batch, d_in.data(), d_grad_out.data(), without_grad_in ? nullptr : d_grad_in.data(), d_weight.data(),
                       d_saved.data(), d_grad_weight.data(), d_grad_bias.data(), split);
    SF_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
    return {download(d_out),
            download(d_running),
            download(d_saved),
            training && !without_grad_in ? download(d_grad_in) : std::vector<float>(in.size()),
            download(d_grad_weight),
            download(d_grad_bias),
            ctx.launches->kernels - launches_before};
  }
};

bool identical(const bn_result& a, const bn_result& b) {
  return same_bits(a.out, b.out) && same_bits(a.running, b.running) && same_bits(a.saved, b.saved) &&
         same_bits(a.grad_in, b.grad_in) && same_bits(a.grad_weight, b.grad_weight) && same_bits(a.grad_bias, b.grad_bias);
}

template <int C, int H, int W>
void check_batch_norm(int batch, unsigned seed, const sfc::context& ctx, workspace& w) {
  const bn_case<C, H, W> data(batch, seed);
  const long long count = static_cast<long long>(batch) * H * W;
  const sfc::channel_split chosen = sfc::batch_norm_launch<C, H * W, kMomentum, kEps>::split_for(batch);
  std::vector<sfc::channel_split> splits = {chosen};
  for (int wanted : {1, 2, 7, sfc::channel_max_parts}) splits.push_back(sfc::channel_split::into(count, wanted));
  const bn_result cpu_train = data.on_cpu(true), cpu_eval = data.on_cpu(false);
  std::printf("BatchNorm2d %3d x %2dx%-2d batch %4d: chosen split %2d ranges of %6d\n", C, H, W, batch, chosen.parts,
              chosen.per_part);
  for (const auto& split : splits) {
    const std::string where = std::to_string(C) + "x" + std::to_string(H) + "x" + std::to_string(W) + " batch " +
                              std::to_string(batch) + ", " + std::to_string(split.parts) + " ranges";
    const bn_result gpu = data.on_gpu(ctx, w, true, split);
    expect(gpu.launches == 4, where + ": 2 kernels forward and 2 backward");
    // μ and 1/σ come from double sums; the CPU's are the same sums in another order (and two passes).
    expect(mismatches(gpu.saved, cpu_train.saved, 1e-6f) == 0, where + ": batch mean and 1/σ equal the CPU's");
    expect(mismatches(gpu.running, cpu_train.running, 1e-6f) == 0, where + ": running statistics equal the CPU's");
    expect(mismatches(gpu.out, cpu_train.out, 1e-5f) == 0, where + ": output equals the CPU's");
    expect(mismatches(gpu.grad_in, cpu_train.grad_in, 1e-5f) == 0, where + ": ∂x equals the CPU's");
    expect(mismatches(gpu.grad_weight, cpu_train.grad_weight, 1e-5f) == 0, where + ": ∂γ accumulates the CPU's");
    expect(mismatches(gpu.grad_bias, cpu_train.grad_bias, 1e-5f) == 0, where + ": ∂β accumulates the CPU's");
    // The last block re-arms its counters: the same launch again gives the same bits.
    expect(identical(gpu, data.on_gpu(ctx, w, true, split)), where + ": a second launch repeats the first bit for bit");
    // The first layer of a network computes no ∂x: one kernel less, the same ∂γ and ∂β.
    const bn_result no_grad_in = data.on_gpu(ctx, w, true, split, true);
    expect(no_grad_in.launches == 3, where + ": without ∂x, 3 kernels");
    expect(same_bits(no_grad_in.grad_weight, gpu.grad_weight) && same_bits(no_grad_in.grad_bias, gpu.grad_bias),
           where + ": without ∂x, the same ∂γ and ∂β");
    // Evaluation reduces nothing: μ, 1/σ and every output are the CPU's expressions, bit for bit.
    const bn_result eval = data.on_gpu(ctx, w, false, split);
    expect(eval.launches == 1, where + ": evaluation is 1 kernel");
    expect(same_bits(eval.saved, cpu_eval.saved), where + ": evaluation saves the running μ and 1/σ");
    expect(same_bits(eval.running, data.running), where + ": evaluation leaves the running statistics");
    expect(same_bits(eval.out, cpu_eval.out), where + ": evaluation output equals the CPU's bit for bit");
  }
}

/// The bias gradient of a convolution with C output channels on an H×W plane: db += Σ ∂out.
template <int C, int H, int W>
void check_channel_sum(int batch, unsigned seed, const sfc::context& ctx, workspace& w) {
  constexpr sf::conv_geometry G{1, H, W, C, H, W, 1, 1, 0};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> grad_out(static_cast<std::size_t>(batch) * C * H * W), grad_bias0(C);
  for (auto& v : grad_out) v = u(rng);
  for (auto& v : grad_bias0) v = u(rng);
  std::vector<float> expected = grad_bias0;
  for (int c = 0; c < C; ++c) {
    long double sum = 0;
    for (int s = 0; s < batch; ++s)
      for (int p = 0; p < H * W; ++p) sum += grad_out[(static_cast<std::size_t>(s) * C + c) * H * W + p];
    expected[c] += static_cast<float>(sum);
  }
  sfc::device_array<float> d_grad_out(grad_out.size()), d_grad_bias(C);
  upload(d_grad_out, grad_out);
  const long long count = static_cast<long long>(batch) * H * W;
  auto run = [&](const sfc::channel_split* forced) {
    upload(d_grad_bias, grad_bias0);
    w.poison();
    if (forced) {
      sfc::channel_sum_kernel<C, H * W><<<sfc::channel_grid<C>(*forced, ctx.reduction), sfc::reduce_threads, 0, ctx.stream>>>(
          d_grad_out.data(), d_grad_bias.data(), batch, *forced, ctx.reduction);
      ctx.kernel_launched();
    } else {
      sfc::conv2d_bias_gradient<G>(ctx, batch, d_grad_out.data(), d_grad_bias.data());
    }
    SF_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
    return download(d_grad_bias);
  };
  const auto chosen = run(nullptr);
  const std::string where = "channel sum " + std::to_string(C) + "x" + std::to_string(H) + "x" + std::to_string(W) +
                            " batch " + std::to_string(batch);
  expect(mismatches(chosen, expected, 1e-6f) == 0, where + ": db accumulates Σ∂out");
  expect(same_bits(chosen, run(nullptr)), where + ": a second launch repeats the first bit for bit");
  int last_parts = 0;
  for (int wanted = 1; wanted <= sfc::channel_max_parts; ++wanted) {
    const auto split = sfc::channel_split::into(count, wanted);
    if (split.parts == last_parts) continue;  // a split already checked
    last_parts = split.parts;
    expect(mismatches(run(&split), expected, 1e-6f) == 0, where + ", " + std::to_string(split.parts) + " ranges: db accumulates Σ∂out");
  }
}

}  // namespace

int main() {
  return spikefuse::testing::run_device_checks([](sfc::context& ctx) {
    constexpr int most_channels = 512;
    workspace w(most_channels);
    ctx.reduction = w.view(most_channels);
    check_batch_norm<3, 7, 7>(5, 1u, ctx, w);      // 245 per channel: shorter than a block, one range
    check_batch_norm<64, 32, 32>(16, 2u, ctx, w);  // 16,384: 4 ranges of 4,096
    check_batch_norm<512, 4, 4>(9, 3u, ctx, w);    // many channels, small planes: one range each
    check_batch_norm<8, 28, 28>(64, 4u, ctx, w);   // 50,176: 12 ranges, the last shorter
    check_batch_norm<1, 32, 32>(300, 5u, ctx, w);  // 307,200 in one channel: the 64-range cap
    // Every split of 1 to 64 ranges that the channel's length allows.
    check_channel_sum<6, 5, 5>(3, 6u, ctx, w);
    check_channel_sum<64, 32, 32>(16, 7u, ctx, w);
    check_channel_sum<3, 30, 30>(100, 8u, ctx, w);
  });
}
