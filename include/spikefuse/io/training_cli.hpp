// training_cli: the flags, their checks, the device choice and the exit codes that every spikefuse training binary shares.
//
// A binary declares its networks, sets its defaults in `training_cli::opt`, adds its own flags, and
// hands a data loader to run_training<OTTTNet, SLTTNet>(). Exit codes: 0 done, 1 error (data,
// checkpoint, I/O), 2 bad flags, 3 non-finite loss (the last checkpoint is kept), 4 --device cuda
// without a usable GPU.
#pragma once

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>

#include "spikefuse/io/flags.hpp"
#include "spikefuse/train/fit.hpp"
#if defined(__CUDACC__)
#include "spikefuse/backend/cuda/trainer.cuh"
#endif

namespace spikefuse::io {

struct training_cli {
  fit_options opt;
  std::string data_dir;
  std::string method = "ottt_a", optimizer = "adam", encoding = "direct", mse_target = "onehot";
  int limit_train = 0, limit_test = 0;
  bool print_plan = false;
  std::string device = "auto", precision = "fp32";
  bool no_graphs = false;

  /// The flags every training binary has; `data_help` says what --data-dir holds.
  void add_flags(flag_parser& flags, const std::string& data_help) {
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
    flags.add("data-dir", data_dir, data_help);
    flags.add("out-dir", opt.out_dir, "where metrics.jsonl and checkpoint.bin go");
    flags.add_switch("resume", opt.resume, "continue from <out-dir>/checkpoint.bin if it exists");
    flags.add("limit-train", limit_train, "use only the first N training images (0 = all)");
    flags.add("limit-test", limit_test, "use only the first N test images (0 = all)");
    flags.add_switch("print-plan", print_plan, "print the network's memory plan and exit (with --device cuda: the CUDA backend's)");
    flags.add_switch("quiet", opt.quiet, "no progress bar and no per-epoch lines (metrics.jsonl has them)");
    flags.add("device", device, "auto (the GPU when there is one), cpu or cuda");
    flags.add("precision", precision, "GPU GEMMs: fp32 (matches the CPU) or tf32 (tensor cores)");
    flags.add_switch("no-graphs", no_graphs, "GPU: launch every kernel instead of replaying CUDA graphs (debugging)");
  }

  /// Turns the string flags into `opt` and checks every value; throws flag_error naming the flag.
  void validate() {
    // Name the flag in every message: "bad value 'foo' for --method: unknown method ...".
    const auto parse = [](const char* flag, const std::string& value, auto&& parser) {
      try {
        return parser(value);
      } catch (const std::exception& e) {
        throw flag_error("bad value '" + value + "' for --" + flag + ": " + e.what());
      }
    };
    opt.method = parse("method", method, [](const std::string& v) { return parse_method(v); });
    opt.optimizer.kind = parse("optimizer", optimizer, [](const std::string& v) { return parse_optimizer(v); });
    opt.encoding = parse("encoding", encoding, [](const std::string& v) { return data::parse_encoding(v); });
    if (mse_target != "onehot" && mse_target != "constant")
      throw flag_error("bad value '" + mse_target + "' for --mse-target (choose onehot or constant)");
    opt.loss.constant_mse_target = mse_target == "constant";
    const auto at_least = [](const char* flag, long long value, long long minimum) {
      if (value < minimum)
        throw flag_error("--" + std::string(flag) + " must be at least " + std::to_string(minimum) + ", got " +
                         std::to_string(value));
    };
    at_least("epochs", opt.epochs, 1);
    at_least("batch-size", opt.batch_size, 1);
    at_least("T", opt.time_steps, 1);
    at_least("limit-train", limit_train, 0);
    at_least("limit-test", limit_test, 0);
    if (!(opt.lr > 0.f)) throw flag_error("--lr must be positive");
    if (opt.method == training_method::sltt_k && (opt.k < 1 || opt.k > opt.time_steps))
      throw flag_error("--k must be between 1 and T for sltt_k");
    if (opt.optimizer.nesterov && opt.optimizer.kind != optimizer_kind::sgd) throw flag_error("--nesterov needs --optimizer sgd");
    if (opt.optimizer.nesterov && opt.optimizer.momentum == 0.f) throw flag_error("--nesterov needs --momentum above 0");
    if (opt.optimizer.momentum < 0.f) throw flag_error("--momentum must be at least 0");
    if (opt.optimizer.weight_decay < 0.f) throw flag_error("--weight-decay must be at least 0");
    if (opt.warmup_epochs < 0.f || opt.warmup_epochs > static_cast<float>(opt.epochs))
      throw flag_error("--warmup-epochs must be between 0 and --epochs");
    if (opt.loss.mse_weight < 0.f || opt.loss.mse_weight > 1.f) throw flag_error("--mse-weight must be between 0 and 1");
    if (device != "auto" && device != "cpu" && device != "cuda")
      throw flag_error("bad value '" + device + "' for --device (choose auto, cpu or cuda)");
    if (precision != "fp32" && precision != "tf32")
      throw flag_error("bad value '" + precision + "' for --precision (choose fp32 or tf32)");
  }
};

/// Parses and validates; returns −1 to go on, else the exit code (0 after --help, 2 for a bad flag).
inline int parse_training_flags(training_cli& cli, flag_parser& flags, int argc, char** argv) {
  try {
    if (!flags.parse(argc, argv)) {
      std::cout << flags.help();
      return 0;
    }
    cli.validate();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return -1;
}

/// Prints the plan, or picks the device, loads the data (`load()` returns {train, test}) and trains
/// the OTTT or the SLTT network as --method says. Returns the exit code.
template <class OTTTNet, class SLTTNet, class LoadData>
int run_training(training_cli& cli, LoadData&& load) {
  fit_options& opt = cli.opt;
  const bool ottt = uses_trace(opt.method);
  if (cli.print_plan) {
    const int slots = optimizer_slots(opt.optimizer);
#if defined(__CUDACC__)
    if (cli.device == "cuda") {  // the CUDA backend's layout, computed on the host: no device needed
      std::cout << "CUDA backend: no buffers for what the fused neuron kernels never touch\n";
      auto plan = ottt ? cuda::model<OTTTNet>::plan_for(opt.batch_size, slots) : cuda::model<SLTTNet>::plan_for(opt.batch_size, slots);
      plan.time_steps = opt.time_steps;
      print(std::cout, plan);
      return 0;
    }
#endif
    print(std::cout, ottt ? make_plan<OTTTNet>(opt.batch_size, opt.time_steps, slots)
                          : make_plan<SLTTNet>(opt.batch_size, opt.time_steps, slots));
    return 0;
  }
  // Where to train: one line says why when it is not the GPU the user may have expected.
#if defined(__CUDACC__)
  const bool have_gpu = cli.device != "cpu" && cuda::device_count() > 0;
  const std::string no_gpu_reason = cli.device == "cpu" ? "" : cuda::no_device_reason();
#else
  const bool have_gpu = false;
  const std::string no_gpu_reason = "this binary was built without CUDA (no nvcc at build time)";
#endif
  const bool use_gpu = have_gpu;
  if (cli.device == "cuda" && !use_gpu) {
    std::fprintf(stderr, "error: --device cuda, but there is no usable CUDA device (%s)\n", no_gpu_reason.c_str());
    return 4;
  }
#if defined(__CUDACC__)  // (a build without CUDA has no GPU to miss: its "device: cpu" line below says enough)
  if (cli.device == "auto" && !use_gpu) std::fprintf(stderr, "no CUDA device (%s): training on the CPU\n", no_gpu_reason.c_str());
#endif
  if (!use_gpu && (cli.precision != "fp32" || cli.no_graphs))
    std::fprintf(stderr, "note: --precision and --no-graphs apply to the GPU only; the CPU ignores them\n");
#if defined(__CUDACC__)
  if (use_gpu) std::fprintf(stderr, "device: cuda, %s\n", cuda::device_description().c_str());
#endif

  try {
    auto [train, test] = load();
    if (cli.limit_train > 0) data::truncate(train, cli.limit_train);
    if (cli.limit_test > 0) data::truncate(test, cli.limit_test);
    // A flat network input shows the images' own shape (28x28), an image input the network's (1x28x28).
    constexpr shape input = OTTTNet::input_shape;
    const std::string sample_shape = input.is_flat() ? std::to_string(train.rows) + "x" + std::to_string(train.cols)
                                                     : dsl::describe(input);
    std::fprintf(stderr, "data: %d training and %d test images of %s from %s\n", train.count, test.count,
                 sample_shape.c_str(), cli.data_dir.c_str());
    const auto train_on = [&]<class Net>() -> fit_result {
#if defined(__CUDACC__)
      if (use_gpu) {
        opt.device = "cuda: " + cuda::device_description() + ", " + cli.precision + (cli.no_graphs ? ", no graphs" : ", graphs");
        cuda::model<Net> model(spikefuse::detail::largest_batch(opt, train, test), optimizer_slots(opt.optimizer), opt.seed,
                               cuda::model_options{.graphs = !cli.no_graphs,
                                                   .precision = cuda::parse_gemm_precision(cli.precision)});
        return fit_model(model, opt, train, test);
      }
#endif
      (void)use_gpu;
      opt.device = "cpu: " + cpu::blas_kernels_in_use.describe();
      std::fprintf(stderr, "device: %s\n", opt.device.c_str());
      return fit<Net>(opt, train, test);
    };
    const auto result = ottt ? train_on.template operator()<OTTTNet>() : train_on.template operator()<SLTTNet>();
    std::printf("final test accuracy %.2f%% after %d epochs (%d in this run) in %.1f s\n",
                100.0 * result.final_test_accuracy, result.total_epochs, result.epochs_run, result.seconds);
    return 0;
  } catch (const non_finite_training& e) {
    // Only this run (or the run it resumed) can have left a checkpoint here: fit_model moves an earlier run's aside.
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

}  // namespace spikefuse::io
