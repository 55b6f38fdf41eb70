// CUDA benchmark: time and device memory of one training batch of the papers' CIFAR networks on synthetic 3×32×32 data:
// OTTT VGG-11-WS (OTTT_A) at batch 128 for T = 2, 6, 12 (memory must not grow with T) and the SLTT ResNet-18 at T = 6,
// fp32 and tf32 GEMMs, CUDA graphs on; both at T = 6 in fp32 with im2col column buffers of 32 and 64 MiB
// instead of 16 (model_options::im2col_chunk_mib: wider GEMMs, fewer launches, more memory); both at T = 6
// once more with the convolutions through cuDNN (model_options::convolutions = cudnn) instead of im2col +
// cuBLAS, which is what decides between the two.
//
//   cuda_conv_train_step [out.json]        (default conv_train_step.json)
//
// Each configuration builds a fresh cuda::model, trains 2 warm-up batches, then times 10 batches
// with a steady clock around spikefuse::train_batch (it returns after the GPU finished: it reads the
// loss back); the median is reported. SGD with momentum 0.9 (the papers' optimizer). Device memory
// is the drop in cudaMemGetInfo's free bytes from before the model is built to after its last batch.
// Without a GPU: prints "no CUDA device: nothing to benchmark" and exits 0.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <spikefuse/spikefuse.hpp>
#include <spikefuse/backend/cuda/trainer.cuh>
#include <spikefuse/models/ottt_vgg11_ws.hpp>
#include <spikefuse/models/sltt_resnet18.hpp>

#include "bench_report.hpp"

namespace sf = spikefuse;
namespace sfc = spikefuse::cuda;

namespace {

constexpr int kBatch = 128;
constexpr int kWarmupBatches = 2;
constexpr int kTimedBatches = 10;

struct row {
  std::string network, precision, convolutions;
  int T = 0, im2col_mib = 16;
  double ms_per_batch = 0, min_ms = 0;
  std::size_t allocated_bytes = 0;
  long long device_bytes = 0;
  sfc::launch_counter launches;
  double last_loss = 0;
};

std::size_t free_device_bytes() {
  std::size_t free_bytes = 0, total_bytes = 0;
  SF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return free_bytes;
}

template <class Net>
row bench_network(const char* name, int T, sfc::gemm_precision precision,
                  sfc::convolution_backend convolutions = sfc::convolution_backend::im2col, int im2col_mib = 16) {
  row r;
  r.network = name;
  r.T = T;
  r.im2col_mib = convolutions == sfc::convolution_backend::im2col ? im2col_mib : 0;  // cuDNN: no columns
  r.precision = precision == sfc::gemm_precision::tf32 ? "tf32" : "fp32";
  r.convolutions = convolutions == sfc::convolution_backend::cudnn ? "cudnn" : "im2col";
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<float> images(static_cast<std::size_t>(kBatch) * Net::input_size);
  for (auto& p : images) p = u(rng);
  std::vector<std::uint8_t> labels(kBatch);
  for (auto& l : labels) l = static_cast<std::uint8_t>(rng() % 10);
  const sf::step_encoder encode([&](int, float* x) { std::copy(images.begin(), images.end(), x); }, true);
  const std::vector<char> all(static_cast<std::size_t>(T), 1);
  const auto method = Net::has_trace ? sf::training_method::ottt_a : sf::training_method::sltt;
  SF_CUDA_CHECK(cudaDeviceSynchronize());
  const std::size_t free_before = free_device_bytes();
  {
    sfc::model<Net> m(kBatch, 1, 1, sfc::model_options{.graphs = true, .precision = precision, .convolutions = convolutions,
                                                     .im2col_chunk_mib = im2col_mib});
    sf::optimizer opt(sf::optimizer_config{.kind = sf::optimizer_kind::sgd, .momentum = 0.9f});
    auto one = [&] {
      const auto t0 = std::chrono::steady_clock::now();
      const auto res = sf::train_batch(m, opt, 1e-3f, kBatch, T, encode, labels, sf::loss_config{}, sf::schedule_of(method), all);
      r.last_loss = res.loss;
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    for (int i = 0; i < kWarmupBatches; ++i) one();
    std::vector<double> ms;
    for (int i = 0; i < kTimedBatches; ++i) ms.push_back(one());
    r.ms_per_batch = bench::median(ms);
    r.min_ms = *std::min_element(ms.begin(), ms.end());
    m.synchronize();
    r.device_bytes = static_cast<long long>(free_before) - static_cast<long long>(free_device_bytes());
    r.allocated_bytes = m.allocated_bytes();
    r.launches = m.last_step_launches();
  }
  const std::string conv = r.convolutions == "im2col" ? "im2col/" + std::to_string(r.im2col_mib) : r.convolutions;
  std::printf("%-22s %-9s %-5s %3d %11.2f %11.2f %10.1f %10.1f %6d %9.4f\n", r.network.c_str(), conv.c_str(),
              r.precision.c_str(), r.T,
              r.ms_per_batch, r.ms_per_batch / T, r.allocated_bytes / 1048576.0, r.device_bytes / 1048576.0,
              r.launches.total(), r.last_loss);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (bench::no_gpu_to_benchmark()) return 0;
  const std::string json_path = argc > 1 ? argv[1] : "conv_train_step.json";
  std::printf("device: %s, batch %d, synthetic 3x32x32, graphs on, median of %d batches\n",
              sfc::device_description().c_str(), kBatch, kTimedBatches);
  std::printf("%-22s %-9s %-5s %3s %11s %11s %10s %10s %6s %9s\n", "network", "conv/MiB", "gemm", "T", "ms/batch", "ms/step", "alloc MiB",
              "device MiB", "launch", "loss");
  std::vector<row> rows;
  using VGG = sf::models::ottt_vgg11_ws<>;
  using ResNet = sf::models::sltt_preact_resnet18<>;
  bench_network<VGG>("ottt_vgg11_ws", 2, sfc::gemm_precision::fp32);  // process warm-up (module loading, cuBLAS heuristics)
  for (const auto precision : {sfc::gemm_precision::fp32, sfc::gemm_precision::tf32})
    for (const int T : {2, 6, 12}) rows.push_back(bench_network<VGG>("ottt_vgg11_ws", T, precision));
  for (const auto precision : {sfc::gemm_precision::fp32, sfc::gemm_precision::tf32})
    rows.push_back(bench_network<ResNet>("sltt_preact_resnet18", 6, precision));
  // The im2col column buffer: wider chunks make wider GEMMs and fewer launches, for memory.
  for (const int mib : {32, 64}) {
    rows.push_back(bench_network<VGG>("ottt_vgg11_ws", 6, sfc::gemm_precision::fp32, sfc::convolution_backend::im2col, mib));
    rows.push_back(bench_network<ResNet>("sltt_preact_resnet18", 6, sfc::gemm_precision::fp32, sfc::convolution_backend::im2col, mib));
  }
  try {
    for (const auto precision : {sfc::gemm_precision::fp32, sfc::gemm_precision::tf32}) {
      rows.push_back(bench_network<VGG>("ottt_vgg11_ws", 6, precision, sfc::convolution_backend::cudnn));
      rows.push_back(bench_network<ResNet>("sltt_preact_resnet18", 6, precision, sfc::convolution_backend::cudnn));
    }
  } catch (const sfc::cuda_error& e) {
    std::printf("cudnn rows skipped: %s\n", e.what());
  }

  bench::json j;
  j.open()
      .run_fields("cuda_conv_train_step", sfc::device_description(), bench::utc_now(), argc, argv)
      .field("batch", kBatch)
      .open_array("rows");
  for (const auto& r : rows)
    j.open()
        .field("network", r.network)
        .field("precision", r.precision)
        .field("convolutions", r.convolutions)
        .field("im2col_mib", r.im2col_mib)
        .field("T", r.T)
        .field("ms_per_batch", r.ms_per_batch)
        .field("min_ms_per_batch", r.min_ms)
        .field("allocated_bytes", r.allocated_bytes)
        .field("device_bytes", r.device_bytes)
        .field("launches_per_step", r.launches.total())
        .field("last_loss", r.last_loss)
        .close();
  j.close_array().close();
  return j.save(json_path) ? 0 : 1;
}
