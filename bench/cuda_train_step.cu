// CUDA benchmark: time of one training batch of the Fashion-MNIST MLP 784-800-10 (OTTTLIF and SLTTLIF, batch 128, Adam, all steps with backward) for T = 4, 16, 64, CUDA graphs on and off; device memory against T; launches per step.
//
//   cuda_train_step [out.json]        (default train_step.json)
//
// Each configuration builds a fresh cuda::model, trains 3 warm-up batches, then times 20 batches
// with a steady clock around spikefuse::train_batch (which returns only after the GPU finished: it
// reads the loss back); the median is reported. Data are synthetic and fixed: images uniform in
// [0, 1), labels uniform in 0..9. Device memory is the drop in cudaMemGetInfo's free bytes from
// before the model is built to after its last batch (arena, cuBLAS handle and workspace, captured
// graphs); it should not grow with T. A CPU-backend row at T = 4 is the reference.
// Without a GPU: prints "no CUDA device: nothing to benchmark" and exits 0.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <spikefuse/spikefuse.hpp>
#include <spikefuse/backend/cuda/trainer.cuh>

#include "bench_report.hpp"

namespace sf = spikefuse;
namespace sfc = spikefuse::cuda;

namespace {

template <class Neuron>
using MLP = sf::Network<sf::Input<784>, sf::Linear<800>, Neuron, sf::Linear<10>>;  // examples/fashion_mnist_mlp.cpp

constexpr int kBatch = 128;
constexpr std::uint64_t kSeed = 1;
constexpr float kLr = 1e-4f;
constexpr int kWarmupBatches = 3;
constexpr int kTimedBatches = 20;
constexpr int kCpuTimedBatches = 5;
constexpr int kTimeSteps[] = {4, 16, 64};
constexpr std::size_t kFlatSlack = 2u << 20;  // cudaMemGetInfo moves in 2 MiB pages

struct synthetic_batch {
  std::vector<float> images;
  std::vector<std::uint8_t> labels;
};

synthetic_batch make_batch() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  synthetic_batch b;
  b.images.resize(static_cast<std::size_t>(kBatch) * 784);
  for (auto& p : b.images) p = u(rng);
  b.labels.resize(kBatch);
  for (auto& l : b.labels) l = static_cast<std::uint8_t>(rng() % 10);
  return b;
}

struct row {
  std::string neuron;
  int T = 0;
  bool graphs = false;
  double ms_per_batch = 0, min_ms_per_batch = 0;
  std::size_t allocated_bytes = 0;  // model.allocated_bytes()
  long long device_bytes = 0;       // drop in free device memory
  sfc::launch_counter launches;     // of the last step
  long long graph_nodes = 0;         // of the graph the last step replayed (0 without graphs)
  double last_loss = 0;
};

/// One training batch, timed on the host; the same call for either backend.
template <class Model>
double timed_batch(Model& m, sf::optimizer& opt, int T, const synthetic_batch& data, double* loss) {
  const sf::step_encoder encode([&](int, float* x) { std::copy(data.images.begin(), data.images.end(), x); },
                                /*same_every_step=*/true);
  const std::vector<char> all_steps(static_cast<std::size_t>(T), 1);
  const auto t0 = std::chrono::steady_clock::now();
  const sf::batch_result r = sf::train_batch(m, opt, kLr, kBatch, T, encode, data.labels, sf::loss_config{},
                                             sf::update_schedule::per_batch, all_steps);
  const auto t1 = std::chrono::steady_clock::now();
  if (loss) *loss = r.loss;
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

std::size_t free_device_bytes() {
  std::size_t free_bytes = 0, total_bytes = 0;
  SF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return free_bytes;
}

template <class Net>
row bench_cuda(const char* neuron, int T, bool graphs, const synthetic_batch& data) {
  row r;
  r.neuron = neuron;
  r.T = T;
  r.graphs = graphs;
  SF_CUDA_CHECK(cudaDeviceSynchronize());
  const std::size_t free_before = free_device_bytes();
  {
    sfc::model<Net> m(kBatch, 2, kSeed, sfc::model_options{.graphs = graphs});
    sf::optimizer opt(sf::optimizer_config{});  // Adam
    for (int i = 0; i < kWarmupBatches; ++i) timed_batch(m, opt, T, data, nullptr);
    std::vector<double> ms;
    for (int i = 0; i < kTimedBatches; ++i) ms.push_back(timed_batch(m, opt, T, data, &r.last_loss));
    r.ms_per_batch = bench::median(ms);
    r.min_ms_per_batch = *std::min_element(ms.begin(), ms.end());
    m.synchronize();
    r.device_bytes = static_cast<long long>(free_before) - static_cast<long long>(free_device_bytes());
    r.allocated_bytes = m.allocated_bytes();
    r.launches = m.last_step_launches();
    r.graph_nodes = static_cast<long long>(m.last_step_graph_nodes());
  }
  return r;
}

template <class Net>
row bench_cpu(const char* neuron, int T, const synthetic_batch& data) {
  row r;
  r.neuron = neuron;
  r.T = T;
  sf::cpu::model<Net> m(kBatch, 2, kSeed);
  sf::optimizer opt(sf::optimizer_config{});
  timed_batch(m, opt, T, data, nullptr);
  std::vector<double> ms;
  for (int i = 0; i < kCpuTimedBatches; ++i) ms.push_back(timed_batch(m, opt, T, data, &r.last_loss));
  r.ms_per_batch = bench::median(ms);
  r.min_ms_per_batch = *std::min_element(ms.begin(), ms.end());
  r.allocated_bytes = m.allocated_bytes();
  return r;
}

/// Lazy module loading, cuBLAS kernel selection and the first graph instantiation allocate device
/// memory once per process: pay for them before any model's memory is measured.
template <class Net>
void warm_process(const synthetic_batch& data) {
  for (const bool graphs : {true, false}) {
    sfc::model<Net> m(kBatch, 2, kSeed, sfc::model_options{.graphs = graphs});
    sf::optimizer opt(sf::optimizer_config{});
    timed_batch(m, opt, 4, data, nullptr);
  }
}

double mib(double bytes) { return bytes / 1048576.0; }

void print_row(const row& r) {
  std::printf("%-8s %3d %-6s %10.3f %10.4f %10.3f %10.1f %10.1f %5d %5d %5d %5d %9.4f\n", r.neuron.c_str(), r.T,
              r.graphs ? "on" : "off", r.ms_per_batch, r.ms_per_batch / r.T, r.min_ms_per_batch, mib(r.allocated_bytes),
              mib(r.device_bytes), r.launches.kernels, r.launches.gemms, r.launches.copies, r.launches.total(), r.last_loss);
}

struct flatness {
  std::string neuron;
  bool graphs;
  bool allocated_identical;
  long long device_spread;
  bool flat() const { return allocated_identical && device_spread <= static_cast<long long>(kFlatSlack); }
};

/// Device memory of one neuron and graph setting across T: the arena must be identical, the measured
/// drop equal to within the allocator's page.
flatness flatness_of(const std::vector<row>& rows, const std::string& neuron, bool graphs) {
  flatness f{neuron, graphs, true, 0};
  const row* first = nullptr;
  long long lo = 0, hi = 0;
  for (const row& r : rows) {
    if (r.neuron != neuron || r.graphs != graphs) continue;
    if (!first) {
      first = &r;
      lo = hi = r.device_bytes;
    }
    f.allocated_identical = f.allocated_identical && r.allocated_bytes == first->allocated_bytes;
    lo = std::min(lo, r.device_bytes);
    hi = std::max(hi, r.device_bytes);
  }
  f.device_spread = hi - lo;
  return f;
}

void add_row(bench::json& j, const row& r, bool cuda) {
  j.open().field("neuron", r.neuron).field("T", r.T);
  if (cuda) j.field("graphs", r.graphs);
  j.field("ms_per_batch", r.ms_per_batch)
      .field("ms_per_step", r.ms_per_batch / r.T)
      .field("min_ms_per_batch", r.min_ms_per_batch)
      .field("samples_per_s", kBatch * 1e3 / r.ms_per_batch)
      .field("allocated_bytes", r.allocated_bytes)
      .field("last_batch_loss", r.last_loss);
  if (cuda) {
    j.field("device_bytes_used", r.device_bytes)
        .open("launches_per_step")
        .field("kernels", r.launches.kernels)
        .field("gemms", r.launches.gemms)
        .field("copies", r.launches.copies)
        .field("total", r.launches.total())
        .field("graph_nodes", r.graph_nodes)
        .close();
  }
  j.close();
}

}  // namespace

int main(int argc, char** argv) {
  if (bench::no_gpu_to_benchmark()) return 0;
  const std::string json_path = argc > 1 ? argv[1] : "train_step.json";
  using OTTTNet = MLP<sf::OTTTLIF<>>;
  using SLTTNet = MLP<sf::SLTTLIF<>>;
  try {
    SF_CUDA_CHECK(cudaSetDevice(0));
    const std::string device = sfc::device_description();
    const std::string date = bench::utc_now();
    const synthetic_batch data = make_batch();
    std::printf("device: %s\ndate: %s\n", device.c_str(), date.c_str());
    std::printf("MLP 784-800-10, batch %d, Adam lr %g, backward at every step, per-batch update; fp32 GEMMs; "
                "median of %d batches after %d warm-up\n\n",
                kBatch, kLr, kTimedBatches, kWarmupBatches);
    warm_process<OTTTNet>(data);
    warm_process<SLTTNet>(data);

    std::printf("%-8s %3s %-6s %10s %10s %10s %10s %10s %5s %5s %5s %5s %9s\n", "neuron", "T", "graphs", "ms/batch", "ms/step",
                "min ms", "alloc MiB", "device MiB", "kern", "gemm", "copy", "total", "loss");
    std::vector<row> rows;
    for (const bool graphs : {true, false}) {
      for (const int T : kTimeSteps) {
        rows.push_back(bench_cuda<OTTTNet>("OTTTLIF", T, graphs, data));
        print_row(rows.back());
      }
      for (const int T : kTimeSteps) {
        rows.push_back(bench_cuda<SLTTNet>("SLTTLIF", T, graphs, data));
        print_row(rows.back());
      }
    }

    std::printf("\ndevice memory against T (allocated_bytes must be identical; the measured drop may move by one "
                "%.0f MiB page):\n", mib(kFlatSlack));
    std::vector<flatness> flat;
    bool all_flat = true;
    for (const char* neuron : {"OTTTLIF", "SLTTLIF"}) {
      for (const bool graphs : {true, false}) {
        flat.push_back(flatness_of(rows, neuron, graphs));
        const flatness& f = flat.back();
        all_flat = all_flat && f.flat();
        std::printf("  %-8s graphs %-3s: allocated_bytes %s across T, device drop spread %.1f MiB: %s\n", neuron,
                    graphs ? "on" : "off", f.allocated_identical ? "identical" : "DIFFERS", mib(f.device_spread),
                    f.flat() ? "flat" : "NOT flat");
      }
    }

    // The CPU backend for reference (OpenMP + OpenBLAS on every core the runtime gives it).
    const int omp_threads = omp_get_max_threads();
    const unsigned hw_threads = std::thread::hardware_concurrency();
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    std::printf("\nCPU backend (reference, %d OpenMP threads, %u hardware threads), median of %d batches after 1 warm-up:\n",
                omp_threads, hw_threads, kCpuTimedBatches);
    std::vector<row> cpu_rows{bench_cpu<OTTTNet>("OTTTLIF", 4, data), bench_cpu<SLTTNet>("SLTTLIF", 4, data)};
    for (const row& c : cpu_rows) {
      const auto gpu = std::find_if(rows.begin(), rows.end(),
                                    [&](const row& r) { return r.neuron == c.neuron && r.T == c.T && r.graphs; });
      std::printf("  %-8s T=%d: %.2f ms/batch (%.3f ms/step); CUDA with graphs %.2fx faster\n", c.neuron.c_str(), c.T,
                  c.ms_per_batch, c.ms_per_batch / c.T, gpu != rows.end() ? c.ms_per_batch / gpu->ms_per_batch : 0.0);
    }

    bench::json j;
    j.open()
        .run_fields("cuda_train_step", device, date, argc, argv)
        .field("network", "Input<784>, Linear<800>, LIF, Linear<10>")
        .field("batch", kBatch)
        .field("optimizer", "adam")
        .field("lr", static_cast<double>(kLr))
        .field("schedule", "per_batch, backward at every step (OTTT_A / SLTT)")
        .field("gemm_precision", "fp32")
        .field("warmup_batches", kWarmupBatches)
        .field("timed_batches", kTimedBatches)
        .field("statistic", "median wall time of train_batch (ends with a device sync)")
        .open_array("rows");
    for (const row& r : rows) add_row(j, r, true);
    j.close_array().open_array("memory_flat_in_T");
    for (const flatness& f : flat) {
      j.open()
          .field("neuron", f.neuron)
          .field("graphs", f.graphs)
          .field("allocated_bytes_identical", f.allocated_identical)
          .field("device_bytes_spread", f.device_spread)
          .field("flat", f.flat())
          .close();
    }
    j.close_array()
        .field("memory_flat", all_flat)
        .open("cpu_reference")
        .field("omp_threads", omp_threads)
        .field("hardware_threads", static_cast<int>(hw_threads))
        .field("omp_wait_policy", wait_policy ? wait_policy : "default")
        .field("timed_batches", kCpuTimedBatches)
        .open_array("rows");
    for (const row& r : cpu_rows) add_row(j, r, false);
    j.close_array().close().close();
    if (!j.save(json_path)) return 1;
    std::printf("wrote %s\n", json_path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
