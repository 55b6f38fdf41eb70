// Train a spiking MLP on Fashion-MNIST online through time (OTTT or SLTT), on a GPU or the CPU.
//
//   fashion_mnist_mlp [--epochs N] [--method ottt_a|ottt_o|sltt|sltt_k] [--T T] [--device auto|cpu|cuda] ...
//
// The network is declared once per neuron type; the method flag picks which one is trained. Built
// with nvcc (when CMake finds it) the same declaration also trains on the CUDA backend: --device auto
// (the default) takes the GPU when there is one and otherwise says so in one line and trains on the
// CPU; --device cuda without a GPU is an error (exit 4).
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/train/fit.hpp>
#include <spikefuse/io/flags.hpp>
#include <spikefuse/io/openmp_env.hpp>
#if defined(__CUDACC__)
#include <spikefuse/backend/cuda/trainer.cuh>
#endif

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>

namespace sf = spikefuse;

template <class Neuron>
using MLP = sf::Network<sf::Input<784>,
                        sf::Linear<800>, Neuron,
                        sf::Linear<10>>;

using OTTTNet = MLP<sf::OTTTLIF<>>;  // SpikingJelly OTTTLIFNode defaults: tau 2, soft reset, sigmoid(4)
using SLTTNet = MLP<sf::SLTTLIF<>>;  // SpikingJelly SLTTLIFNode defaults: tau 2, decay_input, hard reset to 0

int main(int argc, char** argv) {
  sf::io::ensure_passive_openmp_wait(argv);
  sf::fit_options opt;
  opt.epochs = 8;
  opt.batch_size = 128;
  opt.time_steps = 4;
  opt.lr = 1e-3f;
  opt.out_dir = "runs/fashion_mnist_mlp";
  std::string data_dir = sf::data::default_fashion_mnist_dir;
  std::string method = "ottt_a", optimizer = "adam", encoding = "direct", mse_target = "onehot";
  int limit_train = 0, limit_test = 0;
  bool print_plan = false;
  std::string device = "auto", precision = "fp32";
  bool no_graphs = false;

  sf::io::flag_parser flags(
      "fashion_mnist_mlp: train a 784-800-10 spiking MLP on Fashion-MNIST (or MNIST) with OTTT or SLTT.");
  flags.add("epochs", opt.epochs, "training epochs");
  flags.add("batch-size", opt.batch_size, "samples per batch");
  flags.add("T", opt.time_steps, "time steps per sample");
  flags.add("lr", opt.lr, "peak learning rate (cosine decay to 0)");
  flags.add("warmup-epochs", opt.warmup_epochs, "linear warm-up, in epochs (fractions allowed)");
  flags.add("optimizer", optimizer, "sgd, adam or adamw");
  flags.add("momentum", opt.optimizer.momentum, "SGD momentum");
  flags.add_switch("nesterov", opt.optimizer.nesterov, "SGD Nesterov momentum");
  flags.add("weight-decay", opt.optimizer.weight_decay, "weight decay (L2 for sgd/adam, decoupled for adamw)");
  flags.add("method", method, "ottt_a, ottt_o, sltt or sltt_k");
  flags.add("k", opt.k, "SLTT-K: number of time steps with a backward pass");
  flags.add("encoding", encoding, "direct (image at every step) or poisson (rate-coded spikes)");
  flags.add("mse-weight", opt.loss.mse_weight, "lambda in ((1 - lambda) CE + lambda MSE) / T");
  flags.add("mse-target", mse_target, "onehot (OTTT scripts) or constant (SLTT scripts: every logit -> 1)");
  flags.add("seed", opt.seed, "seed for initialisation, shuffling, encoding and SLTT-K");
  flags.add("data-dir", data_dir, "directory with the IDX files (train-images-idx3-ubyte[.gz], ...)");
  flags.add("out-dir", opt.out_dir, "where metrics.jsonl and checkpoint.bin go");
  flags.add_switch("resume", opt.resume, "continue from <out-dir>/checkpoint.bin if it exists");
  flags.add("limit-train", limit_train, "use only the first N training images (0 = all)");
  flags.add("limit-test", limit_test, "use only the first N test images (0 = all)");
  flags.add_switch("print-plan", print_plan, "print the network's memory plan and exit");
  flags.add_switch("quiet", opt.quiet, "no progress bar and no per-epoch lines (metrics.jsonl has them)");
  flags.add("device", device, "auto (the GPU when there is one), cpu or cuda");
  flags.add("precision", precision, "GPU GEMMs: fp32 (matches the CPU) or tf32 (tensor cores)");
  flags.add_switch("no-graphs", no_graphs, "GPU: launch every kernel instead of replaying CUDA graphs (debugging)");

  try {
    if (!flags.parse(argc, argv)) {
      std::cout << flags.help();
      return 0;
    }
    // Name the flag in every message: "bad value 'foo' for --method: unknown method ...".
    const auto parse = [](const char* flag, const std::string& value, auto&& parser) {
      try {
        return parser(value);
      } catch (const std::exception& e) {
        throw sf::io::flag_error("bad value '" + value + "' for --" + flag + ": " + e.what());
      }
    };
    opt.method = parse("method", method, [](const std::string& v) { return sf::parse_method(v); });
    opt.optimizer.kind = parse("optimizer", optimizer, [](const std::string& v) { return sf::parse_optimizer(v); });
    opt.encoding = parse("encoding", encoding, [](const std::string& v) { return sf::data::parse_encoding(v); });
    if (mse_target != "onehot" && mse_target != "constant")
      throw sf::io::flag_error("bad value '" + mse_target + "' for --mse-target (choose onehot or constant)");
    opt.loss.constant_mse_target = mse_target == "constant";
    const auto at_least = [](const char* flag, long long value, long long minimum) {
      if (value < minimum)
        throw sf::io::flag_error("--" + std::string(flag) + " must be at least " + std::to_string(minimum) + ", got " +
                                 std::to_string(value));
    };
    at_least("epochs", opt.epochs, 1);
    at_least("batch-size", opt.batch_size, 1);
    at_least("T", opt.time_steps, 1);
    at_least("limit-train", limit_train, 0);
    at_least("limit-test", limit_test, 0);
    if (!(opt.lr > 0.f)) throw sf::io::flag_error("--lr must be positive");
    if (opt.method == sf::training_method::sltt_k && (opt.k < 1 || opt.k > opt.time_steps))
      throw sf::io::flag_error("--k must be between 1 and T for sltt_k");
    if (opt.optimizer.nesterov && opt.optimizer.kind != sf::optimizer_kind::sgd)
      throw sf::io::flag_error("--nesterov needs --optimizer sgd");
    if (opt.optimizer.nesterov && opt.optimizer.momentum == 0.f)
      throw sf::io::flag_error("--nesterov needs --momentum above 0");
    if (opt.optimizer.momentum < 0.f) throw sf::io::flag_error("--momentum must be at least 0");
    if (opt.optimizer.weight_decay < 0.f) throw sf::io::flag_error("--weight-decay must be at least 0");
    if (opt.warmup_epochs < 0.f || opt.warmup_epochs > static_cast<float>(opt.epochs))
      throw sf::io::flag_error("--warmup-epochs must be between 0 and --epochs");
    if (opt.loss.mse_weight < 0.f || opt.loss.mse_weight > 1.f)
      throw sf::io::flag_error("--mse-weight must be between 0 and 1");
    if (device != "auto" && device != "cpu" && device != "cuda")
      throw sf::io::flag_error("bad value '" + device + "' for --device (choose auto, cpu or cuda)");
    if (precision != "fp32" && precision != "tf32")
      throw sf::io::flag_error("bad value '" + precision + "' for --precision (choose fp32 or tf32)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }

  const bool ottt = sf::uses_trace(opt.method);
  if (print_plan) {
    const int slots = sf::optimizer_slots(opt.optimizer);
    if (ottt) {
      sf::print(std::cout, sf::make_plan<OTTTNet>(opt.batch_size, opt.time_steps, slots));
    } else {
      sf::print(std::cout, sf::make_plan<SLTTNet>(opt.batch_size, opt.time_steps, slots));
    }
    return 0;
  }

  // Where to train: one line says why when it is not the GPU the user may have expected.
#if defined(__CUDACC__)
  const bool have_gpu = device != "cpu" && sf::cuda::device_count() > 0;
  const std::string no_gpu_reason = device == "cpu" ? "" : sf::cuda::no_device_reason();
#else
  const bool have_gpu = false;
  const std::string no_gpu_reason = "this binary was built without CUDA (no nvcc at build time)";
#endif
  if (device == "cuda" && !have_gpu) {
    std::fprintf(stderr, "error: --device cuda, but there is no usable CUDA device (%s)\n", no_gpu_reason.c_str());
    return 4;
  }
  if (device == "auto" && !have_gpu) std::fprintf(stderr, "no CUDA device (%s): training on the CPU\n", no_gpu_reason.c_str());
  const bool use_gpu = have_gpu;
#if defined(__CUDACC__)
  if (use_gpu) std::fprintf(stderr, "device: cuda, %s\n", sf::cuda::device_description().c_str());
#endif

  try {
    const auto paths = sf::data::mnist_layout(data_dir);
    auto train = sf::data::load_idx_pair(paths.train_images, paths.train_labels);
    auto test = sf::data::load_idx_pair(paths.test_images, paths.test_labels);
    if (limit_train > 0) sf::data::truncate(train, limit_train);
    if (limit_test > 0) sf::data::truncate(test, limit_test);
    std::fprintf(stderr, "data: %d training and %d test images of %dx%d from %s\n", train.count, test.count, train.rows,
                 train.cols, data_dir.c_str());
    const auto train_on = [&]<class Net>() -> sf::fit_result {
#if defined(__CUDACC__)
      if (use_gpu) {
        opt.device = "cuda: " + sf::cuda::device_description() + ", " + precision + (no_graphs ? ", no graphs" : ", graphs");
        sf::cuda::model<Net> model(opt.batch_size, sf::optimizer_slots(opt.optimizer), opt.seed,
                                   sf::cuda::model_options{.graphs = !no_graphs,
                                                           .precision = sf::cuda::parse_gemm_precision(precision)});
        return sf::fit_model(model, opt, train, test);
      }
#endif
      (void)use_gpu;
      opt.device = "cpu";
      return sf::fit<Net>(opt, train, test);
    };
    const auto result = ottt ? train_on.template operator()<OTTTNet>() : train_on.template operator()<SLTTNet>();
    std::printf("final test accuracy %.2f%% after %d epochs (%d in this run) in %.1f s\n",
                100.0 * result.final_test_accuracy, result.total_epochs, result.epochs_run, result.seconds);
    return 0;
  } catch (const sf::non_finite_loss& e) {
    const std::string checkpoint = opt.out_dir + "/checkpoint.bin";
    if (std::filesystem::exists(checkpoint)) {
      std::fprintf(stderr, "error: %s\nthe last checkpoint, %s, is from the last completed epoch and was not touched\n",
                   e.what(), checkpoint.c_str());
    } else {
      std::fprintf(stderr, "error: %s\nno epoch was completed, so no checkpoint was written\n", e.what());
    }
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
