// spikefuse side of bench/compare: times one workload (a training batch of T online steps + the optimizer update) and prints one JSON line.
//
//   spikefuse_worker --workload mlp|csnn|vgg11ws|resnet18 --rule ottt|sltt --batch B --T T
//                    [--reps 20] [--warmup 3] [--device cpu|cuda] [--precision fp32|tf32] [--conv im2col|cudnn]
//                    [--im2col-mib 16]
//
// The work is bench/compare/sj_worker.py's, step for step: a fixed uniform [0, 1) input at every
// step (direct encoding), random labels, loss ((1 − 0.05)·CE + 0.05·MSE(one-hot))/T with a backward
// at every step, one optimizer update per batch (OTTT_A; SLTT with K = T). Adam (lr 1e-3) for the
// Fashion-MNIST networks, SGD with momentum 0.9 (lr 1e-3) for the CIFAR networks, as in their
// training binaries. `warmup` untimed batches, then `reps` timed ones; train_batch returns after the
// device finished (it reads the loss back), so a steady clock around it times the whole batch.
//
// Memory: CPU — peak resident set size minus the resident size just before the model is built
// (the peak is reset there through /proc/self/clear_refs), so parameters, gradients, optimizer state
// and every buffer count, the program and its libraries do not; GPU — every device byte the model
// holds (its one arena + the cuBLAS workspace), which is also its peak: nothing is allocated later.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <spikefuse/spikefuse.hpp>
#include <spikefuse/io/flags.hpp>
#include <spikefuse/models/fashion_mnist_csnn.hpp>
#include <spikefuse/models/ottt_vgg11_ws.hpp>
#include <spikefuse/models/sltt_resnet18.hpp>
#if defined(__CUDACC__)
#include <spikefuse/backend/cuda/trainer.cuh>
#endif

namespace sf = spikefuse;

namespace {

struct options {
  std::string workload = "mlp", rule = "ottt", device = "cpu", precision = "fp32", conv = "im2col";
  int batch = 128, T = 6, reps = 20, warmup = 3, im2col_mib = 16;
};

/// A field of /proc/self/status in bytes (VmRSS, VmHWM), 0 where there is none.
long long status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}

bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear.flush());
}

struct measurement {
  std::vector<double> ms;
  long long peak_bytes = 0;
  std::string memory;
  long long params = 0;
  double last_loss = 0;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

template <class Net, class Model>
void run_batches(Model& model, const options& o, bool sgd, measurement& m) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  std::vector<float> images(static_cast<std::size_t>(o.batch) * Net::input_size);
  for (auto& p : images) p = pixel(rng);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(o.batch));
  for (auto& l : labels) l = static_cast<std::uint8_t>(rng() % Net::num_outputs);
  const sf::step_encoder encode([&](int, float* x) { std::copy(images.begin(), images.end(), x); }, true);
  const std::vector<char> every_step(static_cast<std::size_t>(o.T), 1);
  sf::optimizer opt(sgd ? sf::optimizer_config{.kind = sf::optimizer_kind::sgd, .momentum = 0.9f} : sf::optimizer_config{});
  const auto schedule = Net::has_trace ? sf::schedule_of(sf::training_method::ottt_a) : sf::schedule_of(sf::training_method::sltt);
  for (int b = 0; b < o.warmup + o.reps; ++b) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = sf::train_batch(model, opt, 1e-3f, o.batch, o.T, encode, labels, sf::loss_config{}, schedule, every_step);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    if (b >= o.warmup) m.ms.push_back(took.count());
    m.last_loss = r.loss;
  }
  m.params = model.parameter_count();
}

template <class Net>
measurement measure(const options& o, bool sgd) {
  measurement m;
  const int slots = sgd ? 1 : 2;
  if (o.device == "cuda") {
#if defined(__CUDACC__)
    sf::cuda::model<Net> model(o.batch, slots, 1,
                               sf::cuda::model_options{.precision = sf::cuda::parse_gemm_precision(o.precision),
                                                       .convolutions = sf::cuda::parse_convolution_backend(o.conv),
                                                       .im2col_chunk_mib = o.im2col_mib});
    run_batches<Net>(model, o, sgd, m);
    m.peak_bytes = static_cast<long long>(model.allocated_bytes());
    m.memory = "device_allocated";
#else
    throw std::runtime_error("--device cuda, but this worker was built without CUDA");
#endif
  } else {
    const long long before = status_bytes("VmRSS");
    const bool reset = reset_peak_rss();
    {
      sf::cpu::model<Net> model(o.batch, slots, 1);
      run_batches<Net>(model, o, sgd, m);
    }
    m.peak_bytes = status_bytes("VmHWM") - before;
    m.memory = reset ? "rss_delta" : "rss_delta_unreset_peak";
  }
  return m;
}

measurement dispatch(const options& o) {
  using namespace sf;
  const bool ottt = o.rule == "ottt";
  if (o.rule != "ottt" && o.rule != "sltt") throw std::invalid_argument("--rule must be ottt or sltt, not " + o.rule);
  if (o.workload == "mlp") {
    return ottt ? measure<Network<Input<784>, Linear<800>, OTTTLIF<>, Linear<10>>>(o, false)
                : measure<Network<Input<784>, Linear<800>, SLTTLIF<>, Linear<10>>>(o, false);
  }
  if (o.workload == "csnn") {
    return ottt ? measure<models::fashion_mnist_csnn<OTTTLIF<>>>(o, false) : measure<models::fashion_mnist_csnn<SLTTLIF<>>>(o, false);
  }
  if (o.workload == "vgg11ws") {
    if (!ottt) throw std::invalid_argument("vgg11ws is an OTTT workload (--rule ottt)");
    return measure<models::ottt_vgg11_ws<>>(o, true);
  }
  if (o.workload == "resnet18") {
    if (ottt) throw std::invalid_argument("resnet18 is an SLTT workload (--rule sltt)");
    return measure<models::sltt_preact_resnet18<>>(o, true);
  }
  throw std::invalid_argument("unknown --workload " + o.workload + " (mlp, csnn, vgg11ws, resnet18)");
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  sf::io::flag_parser flags("spikefuse side of bench/compare: time one training workload, print one JSON line");
  flags.add("workload", o.workload, "mlp, csnn, vgg11ws or resnet18");
  flags.add("rule", o.rule, "ottt or sltt");
  flags.add("batch", o.batch, "samples per batch");
  flags.add("T", o.T, "time steps per batch");
  flags.add("reps", o.reps, "timed batches");
  flags.add("warmup", o.warmup, "untimed batches first");
  flags.add("device", o.device, "cpu or cuda");
  flags.add("precision", o.precision, "GPU GEMMs: fp32 or tf32");
  flags.add("conv", o.conv, "GPU convolutions: im2col (+ cuBLAS) or cudnn");
  flags.add("im2col-mib", o.im2col_mib, "GPU im2col: MiB of the column buffer the convolutions share (1 to 4096)");
  try {
    if (!flags.parse(argc, argv)) {
      std::printf("%s", flags.help().c_str());
      return 0;
    }
    if (o.batch < 1 || o.T < 1 || o.reps < 1 || o.warmup < 0) throw sf::io::flag_error("batch, T and reps must be positive");
    if (o.device != "cpu" && o.device != "cuda") throw sf::io::flag_error("--device must be cpu or cuda");
    if (o.im2col_mib != 16 && (o.device != "cuda" || o.conv != "im2col"))
      throw sf::io::flag_error("--im2col-mib applies to --device cuda --conv im2col only");
  } catch (const sf::io::flag_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  try {
    const measurement m = dispatch(o);
    std::printf(
        "{\"impl\": \"spikefuse\", \"workload\": \"%s\", \"rule\": \"%s\", \"batch\": %d, \"T\": %d, \"device\": \"%s\", "
        "\"precision\": \"%s\", \"conv\": \"%s\", \"im2col_mib\": %d, \"median_ms\": %.4f, \"p10_ms\": %.4f, \"p90_ms\": %.4f, \"reps\": %d, \"peak_bytes\": %lld, "
        "\"memory\": \"%s\", \"params\": %lld, \"last_loss\": %.6f, \"blas\": \"%s\"}\n",
        o.workload.c_str(), o.rule.c_str(), o.batch, o.T, o.device.c_str(), o.precision.c_str(), o.conv.c_str(), o.im2col_mib, percentile(m.ms, 0.5),
        percentile(m.ms, 0.1), percentile(m.ms, 0.9), o.reps, m.peak_bytes, m.memory.c_str(), m.params, m.last_loss,
        sf::cpu::blas_kernels_in_use.describe().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
