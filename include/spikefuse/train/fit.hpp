// fit<Net>: epochs × batches of train_batch, test accuracy after every epoch, JSON-lines metrics, atomic checkpoints.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "spikefuse/backend/cpu/model.hpp"
#include "spikefuse/data/batcher.hpp"
#include "spikefuse/data/encoding.hpp"
#include "spikefuse/data/idx.hpp"
#include "spikefuse/data/subset.hpp"
#include "spikefuse/dsl/describe.hpp"
#include "spikefuse/io/checkpoint.hpp"
#include "spikefuse/io/metrics.hpp"
#include "spikefuse/io/progress.hpp"
#include "spikefuse/io/run_directory.hpp"
#include "spikefuse/train/lr_schedule.hpp"
#include "spikefuse/train/trainer.hpp"

namespace spikefuse {

struct fit_options {
  int epochs = 4;
  int batch_size = 128;
  int time_steps = 4;
  float lr = 1e-3f;
  float warmup_epochs = 0.f;
  optimizer_config optimizer{};
  training_method method = training_method::ottt_a;
  int k = 2;  // SLTT-K only
  data::encoding encoding = data::encoding::direct;
  loss_config loss{};
  std::uint64_t seed = 42;
  std::string out_dir = "runs/default";
  bool resume = false;
  bool quiet = false;  // no progress bar and no per-epoch lines (metrics.jsonl still has them)
  std::string device = "cpu";  // recorded in metrics.jsonl: where the run trained
  /// Training-time augmentation with direct encoding: writes the samples `idx` of the training set,
  /// augmented, into x, the input of every step. Draws from `rng`, a function of (seed, epoch), so a
  /// resumed run repeats it. Empty: the images as they are. Evaluation never augments.
  std::function<void(const data::dataset& train, std::span<const int> idx, std::mt19937_64& rng, float* x)> train_augment;
  /// Called after every training batch (epoch and batch counted from 0) with its loss and accuracy
  /// counts: a place for custom logging or monitors. An exception thrown here ends the run; the
  /// last finished epoch's checkpoint stays, and `resume` continues from it.
  std::function<void(int epoch, int batch, const batch_result& result)> after_batch;
};

struct fit_result {
  int epochs_run = 0;     // in this call
  int total_epochs = 0;   // including those restored from a checkpoint
  double final_test_accuracy = 0.0;
  double seconds = 0.0;
};

namespace detail {
inline void gather_labels(const data::dataset& d, std::span<const int> idx, std::vector<std::uint8_t>& out) {
  out.resize(idx.size());
  for (std::size_t i = 0; i < idx.size(); ++i) out[i] = d.labels[static_cast<std::size_t>(idx[i])];
}

/// x_t of the samples `idx`: the image itself (direct) or Bernoulli spikes drawn from `rng` (Poisson).
inline step_encoder make_encoder(const data::dataset& d, std::span<const int> idx, data::encoding enc,
                                 std::mt19937_64& rng) {
  if (enc == data::encoding::direct) return step_encoder([&d, idx](int, float* x) { data::encode_direct(d, idx, x); }, true);
  return step_encoder([&d, idx, &rng](int, float* x) { data::encode_poisson(d, idx, x, rng); });
}

/// Backends with BatchNorm support keep running statistics, which checkpoints save.
template <class Model>
concept has_statistics = requires(Model& m) { m.statistics_count(); };
template <class Model>
long long statistics_count(Model& model) {
  if constexpr (has_statistics<Model>) {
    return model.statistics_count();
  } else {
    return 0;
  }
}

/// The settings a resumed run must share with the run that wrote the checkpoint: they fix the
/// shuffling, the batches, the steps and the random streams. (Epochs and learning rate may change.)
/// The training set's size (--limit-train, --synthetic) and augmentation count too: another size
/// shuffles other batches, and augmentation draws from the random stream.
inline std::string run_config(const fit_options& opt, const data::dataset& train) {
  return "seed=" + std::to_string(opt.seed) + " batch_size=" + std::to_string(opt.batch_size) +
         " T=" + std::to_string(opt.time_steps) + " encoding=" + data::to_string(opt.encoding) +
         " k=" + std::to_string(opt.method == training_method::sltt_k ? opt.k : 0) +
         " train_images=" + std::to_string(train.count) + " augment=" + (opt.train_augment ? "on" : "off");
}

/// Whether a checkpoint written with `stored` may be resumed by a run with `now` (run_config). A
/// checkpoint from before the training set's size and augmentation were recorded holds the rest
/// only: it still resumes when that rest matches.
inline bool run_config_allows_resume(const std::string& stored, const std::string& now) {
  if (stored == now) return true;
  return stored.find(" train_images=") == std::string::npos && now.rfind(stored + " train_images=", 0) == 0;
}

/// The most samples a batch of this run holds: the batch size, or fewer when no data set is that
/// large (a model sized for --batch-size 20000 on 100 images would hold memory it never uses).
inline int largest_batch(const fit_options& opt, const data::dataset& train, const data::dataset& test) {
  return std::max(1, std::min(opt.batch_size, std::max(train.count, test.count)));
}

/// The settings that differ between two run configurations, as "batch_size 8 in the checkpoint, 4
/// now" (a setting missing on one side: "(none)").
inline std::string run_config_difference(const std::string& stored, const std::string& now) {
  const auto fields = [](const std::string& config) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(config);
    for (std::string token; in >> token;) {
      const auto eq = token.find('=');
      out.emplace_back(token.substr(0, eq), eq == std::string::npos ? "" : token.substr(eq + 1));
    }
    return out;
  };
  const auto a = fields(stored), b = fields(now);
  const auto value_in = [](const auto& list, const std::string& key) -> std::string {
    for (const auto& [k, v] : list)
      if (k == key) return v;
    return "(none)";
  };
  std::string out;
  std::vector<std::string> keys;
  for (const auto& [k, v] : b) keys.push_back(k);
  for (const auto& [k, v] : a)
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  for (const auto& k : keys) {
    const std::string then = value_in(a, k), current = value_in(b, k);
    if (then == current) continue;
    if (then == "(none)" && (k == "train_images" || k == "augment")) continue;  // recorded since; not a difference
    out += (out.empty() ? "" : ", ") + k + " " + then + " in the checkpoint, " + current + " now";
  }
  return out;
}

/// Refuses to save a model holding NaN or infinity: a checkpoint is the state a run can go on from.
inline void require_finite(const io::checkpoint_state& ck, int epoch) {
  const auto non_finite = [](const std::vector<float>& v) {
    return std::count_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
  };
  const auto in_parameters = non_finite(ck.parameters), in_state = non_finite(ck.optimizer_state),
             in_statistics = non_finite(ck.statistics);
  if (in_parameters + in_state + in_statistics == 0) return;
  throw non_finite_parameters("spikefuse: after epoch " + std::to_string(epoch) + " the model holds NaN or infinity (" +
                              std::to_string(in_parameters) + " of " + std::to_string(ck.parameters.size()) +
                              " parameters, " + std::to_string(in_state) + " optimizer state values, " +
                              std::to_string(in_statistics) +
                              " running statistics); lower the learning rate or check the input");
}
}  // namespace detail

/// Firing rates of a network's neuron layers, measured after each epoch on the first few test images
/// as training sees them (batch statistics in BatchNorm, dropout: phase::train_no_grad; eval mode's
/// running statistics lag early in a run and would silence layers that fire in training), by a CPU
/// copy of the model that keeps the neurons' outputs (any backend's model hands over its parameters
/// and statistics, as a checkpoint holds them). A layer that never fires passes almost no gradient
/// (the surrogate is near 0 far below threshold): a rate of 0 is worth a warning.
template <class Net>
class firing_rate_probe {
 public:
  static constexpr int samples = 8;

  /// One neuron layer: its node, its output's size per sample, its description as the plan prints it.
  struct neuron_layer {
    std::size_t node;
    long long size;
    std::string name;
  };

  explicit firing_rate_probe(std::uint64_t seed) : model_(samples, 0, seed, plan_options{.keep_output_of = neuron_mask()}) {}

  /// The neuron layers in node order (the entries of rates()).
  static const std::vector<neuron_layer>& neuron_layers() {
    static const std::vector<neuron_layer> layers = [] {
      std::vector<neuron_layer> out;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
              using L = typename Net::template layer_at<I + 1>;
              if constexpr (is_neuron<L>)
                out.push_back({I + 1, static_cast<long long>(Net::template port_at<I + 1>::size), dsl::describe<L>()});
            }(),
            ...);
      }(std::make_index_sequence<Net::depth>{});
      return out;
    }();
    return layers;
  }
  static std::vector<std::size_t> neuron_nodes() {
    std::vector<std::size_t> nodes;
    for (const auto& l : neuron_layers()) nodes.push_back(l.node);
    return nodes;
  }
  static std::vector<std::string> neuron_names() {
    std::vector<std::string> names;
    for (const auto& l : neuron_layers()) names.push_back(l.name);
    return names;
  }

  /// Spikes per neuron and step of each neuron layer, on test images 0 … n−1.
  std::vector<double> rates(std::span<const float> parameters, std::span<const float> statistics, const data::dataset& test,
                            int time_steps, data::encoding enc, std::uint64_t seed) {
    model_.load_parameters(parameters);
    if (!statistics.empty()) model_.load_statistics(statistics);
    model_.reseed(seed);  // the same dropout masks whenever the probe was made (a resumed run records the same rates)
    const int n = std::min(samples, test.count);
    std::vector<int> idx(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
    std::mt19937_64 rng(seed);
    const step_encoder encode = detail::make_encoder(test, idx, enc, rng);
    const auto& layers = neuron_layers();
    std::vector<double> spikes(layers.size(), 0.0);
    model_.reset_state(n, phase::train_no_grad);
    for (int t = 0; t < time_steps; ++t) {
      if (t == 0 || !encode.same_every_step) encode(t, model_.input());
      model_.forward(phase::train_no_grad, t > 0 && encode.same_every_step);
      for (std::size_t k = 0; k < layers.size(); ++k) {
        const float* s = model_.output_of(layers[k].node);
        const long long count = static_cast<long long>(n) * layers[k].size;
        for (long long i = 0; i < count; ++i) spikes[k] += s[i] != 0.f;
      }
    }
    for (std::size_t k = 0; k < layers.size(); ++k)
      spikes[k] /= static_cast<double>(n) * static_cast<double>(layers[k].size) * time_steps;
    return spikes;
  }

 private:
  static std::vector<bool> neuron_mask() {
    std::vector<bool> mask(Net::depth + 1, false);
    for (const auto& l : neuron_layers()) mask[l.node] = true;
    return mask;
  }
  cpu::model<Net> model_;
};

/// Test-set accuracy of `model` in eval mode.
template <class Model>
double evaluate(Model& model, const data::dataset& test, int batch_size, int time_steps, data::encoding enc,
                std::mt19937_64& rng) {
  data::batcher batches(test.count, batch_size, false, 0);
  batches.start_epoch(0);
  std::vector<std::uint8_t> labels;
  long long correct = 0;
  for (int b = 0; b < batches.num_batches(); ++b) {
    const auto idx = batches.batch(b);
    detail::gather_labels(test, idx, labels);
    correct += evaluate_batch(model, static_cast<int>(idx.size()), time_steps, detail::make_encoder(test, idx, enc, rng),
                              labels);
  }
  return test.count ? static_cast<double>(correct) / test.count : 0.0;
}

/// Trains `model` (a cpu::model or a cuda::model) on `train`, reports test accuracy on `test` after
/// every epoch. Writes `<out_dir>/metrics.jsonl` and `<out_dir>/checkpoint.bin` (after each epoch,
/// atomically). The model must be freshly built with `opt.seed` and optimizer_slots(opt.optimizer).
template <class Model>
fit_result fit_model(Model& model, const fit_options& opt, const data::dataset& train, const data::dataset& test) {
  using Net = typename Model::network;
  if (train.features() != Net::input_size || test.features() != Net::input_size)
    throw std::invalid_argument("spikefuse: the data has " + std::to_string(train.features()) +
                                " features per sample but the network's Input takes " + std::to_string(Net::input_size));
  if constexpr (constexpr shape in = Net::input_shape; !in.is_flat()) {
    // An image input needs the images' own shape too: 14x56 pixels are 784 features, but no 28x28 image.
    // (data::dataset stacks a sample's channel planes as C*H rows of W; rows = 1 is a flat record
    // without a shape, which only the feature count above can check.)
    for (const data::dataset* d : {&train, &test})
      if (d->rows != 1 && (d->rows != in.c * in.h || d->cols != in.w))
        throw std::invalid_argument("spikefuse: the " + std::string(d == &train ? "training" : "test") + " images are " +
                                    std::to_string(d->rows) + "x" + std::to_string(d->cols) + ", but the network's Input takes " +
                                    dsl::describe(in));
  }
  if (opt.epochs < 1 || opt.batch_size < 1 || opt.time_steps < 1)
    throw std::invalid_argument("spikefuse: epochs, batch size and T must be at least 1");
  if (detail::largest_batch(opt, train, test) > model.max_batch())
    throw std::invalid_argument("spikefuse: batch size " + std::to_string(detail::largest_batch(opt, train, test)) +
                                " exceeds the model's " + std::to_string(model.max_batch()));
  if (uses_trace(opt.method) != Net::has_trace)
    throw std::invalid_argument(std::string("spikefuse: method ") + to_string(opt.method) +
                                (Net::has_trace ? " needs SLTT neurons, but the network has OTTT neurons"
                                                : " needs OTTT neurons, but the network has SLTT neurons"));
  std::filesystem::create_directories(opt.out_dir);
  const std::string checkpoint_path = opt.out_dir + "/checkpoint.bin";
  const std::string signature = dsl::network_signature<Net>();

  optimizer optim(opt.optimizer);
  int first_epoch = 0;
  const bool resuming = opt.resume && std::filesystem::exists(checkpoint_path);
  if (opt.resume && !resuming) std::fprintf(stderr, "no checkpoint at %s: starting fresh\n", checkpoint_path.c_str());
  if (resuming) {
    auto ck = io::load_checkpoint(checkpoint_path);
    const std::string what_to_do =
        " (resume with the checkpoint's settings, or leave out resume to start a new run: the earlier one is then moved "
        "to previous-<n>/)";
    // Method and optimizer first: another method may mean another network (OTTT or SLTT neurons).
    if (ck.method != to_string(opt.method) || ck.optimizer != to_string(opt.optimizer.kind))
      throw io::checkpoint_error("checkpoint " + checkpoint_path + " was trained with " + ck.method + "/" + ck.optimizer +
                                 ", but this run asks for " + to_string(opt.method) + "/" + to_string(opt.optimizer.kind) +
                                 what_to_do);
    if (ck.network != signature)
      throw io::checkpoint_error("checkpoint " + checkpoint_path + " is for network '" + ck.network + "', not '" + signature + "'");
    if (!detail::run_config_allows_resume(ck.run_config, detail::run_config(opt, train)))
      throw io::checkpoint_error("checkpoint " + checkpoint_path + " was written with other settings: " +
                                 detail::run_config_difference(ck.run_config, detail::run_config(opt, train)) + what_to_do);
    const auto state_size = static_cast<std::size_t>(model.parameter_count() * model.optimizer_slots());
    if (ck.parameters.size() != static_cast<std::size_t>(model.parameter_count()) || ck.optimizer_state.size() != state_size)
      throw io::checkpoint_error("checkpoint " + checkpoint_path + " has the wrong number of parameters");
    if (ck.statistics.size() != static_cast<std::size_t>(detail::statistics_count(model)))
      throw io::checkpoint_error("checkpoint " + checkpoint_path + " has the wrong number of running statistics");
    model.load_parameters(ck.parameters);
    model.load_optimizer_state(ck.optimizer_state);
    if constexpr (detail::has_statistics<Model>) model.load_statistics(ck.statistics);
    optim.set_steps(ck.optimizer_steps);
    first_epoch = ck.epochs_done;
    std::fprintf(stderr, "resuming from %s after epoch %d\n", checkpoint_path.c_str(), first_epoch);
  }

  // The schedule checks its warm-up against the run's length: before anything is moved or written.
  data::batcher batches(train.count, opt.batch_size, true, opt.seed);
  const long long total_iterations = static_cast<long long>(opt.epochs) * batches.num_batches();
  const cosine_schedule lr_at{opt.lr, total_iterations,
                              static_cast<long long>(opt.warmup_epochs * static_cast<float>(batches.num_batches())), 0.f};
  const update_schedule schedule = schedule_of(opt.method);
  const int k = opt.method == training_method::sltt_k ? opt.k : 0;
  std::vector<std::uint8_t> labels;
  const auto started = std::chrono::steady_clock::now();
  fit_result result;

  // A fresh run starts a fresh metrics file; a resumed one continues it. An earlier run's files are
  // kept, not overwritten.
  if (!resuming) {
    const std::string aside = io::set_aside_earlier_run(opt.out_dir, {"checkpoint.bin", "metrics.jsonl"});
    if (!aside.empty())
      std::fprintf(stderr, "%s held an earlier run: its checkpoint and metrics moved to %s (--resume continues a run)\n",
                   opt.out_dir.c_str(), aside.c_str());
  }
  io::metrics_writer metrics(opt.out_dir + "/metrics.jsonl", resuming);
  metrics.write(io::json_record{}
                    .add("event", "start")
                    .add("network", signature)
                    .add("device", opt.device)
                    .add("method", to_string(opt.method))
                    .add("optimizer", to_string(opt.optimizer.kind))
                    .add("epochs", opt.epochs)
                    .add("batch_size", opt.batch_size)
                    .add("T", opt.time_steps)
                    .add("lr", static_cast<double>(opt.lr))
                    .add("weight_decay", static_cast<double>(opt.optimizer.weight_decay))
                    .add("mse_weight", static_cast<double>(opt.loss.mse_weight))
                    .add("mse_target", opt.loss.constant_mse_target ? "constant" : "onehot")
                    .add("encoding", data::to_string(opt.encoding))
                    .add("seed", static_cast<unsigned long long>(opt.seed))
                    .add("start_epoch", first_epoch));

  result.total_epochs = first_epoch;
  int epoch_running = first_epoch;
  std::unique_ptr<firing_rate_probe<Net>> probe;  // made at the first epoch's end
  try {
    if (first_epoch >= opt.epochs) {
      // Nothing left to train: report the restored model instead of an empty run.
      std::mt19937_64 rng(opt.seed);
      result.final_test_accuracy = evaluate(model, test, opt.batch_size, opt.time_steps, opt.encoding, rng);
      std::fprintf(stderr, "nothing to train: the checkpoint is at epoch %d and --epochs is %d\n", first_epoch, opt.epochs);
    }
    for (int epoch = first_epoch; epoch < opt.epochs; ++epoch) {
      epoch_running = epoch;
      // Every random stream is a function of (seed, epoch), so a resumed run repeats an uninterrupted one.
      std::mt19937_64 rng(opt.seed * 1000003u + static_cast<std::uint64_t>(epoch));
      model.reseed(rng());  // dropout masks
      batches.start_epoch(epoch);
      io::progress_bar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(opt.epochs), batches.num_batches());
      double loss_sum = 0.0;
      long long correct = 0, seen = 0;
      float lr = opt.lr;
      for (int b = 0; b < batches.num_batches(); ++b) {
        const auto idx = batches.batch(b);
        detail::gather_labels(train, idx, labels);
        lr = lr_at(static_cast<long long>(epoch) * batches.num_batches() + b);
        const auto encode = opt.train_augment && opt.encoding == data::encoding::direct
                                ? step_encoder([&opt, &train, idx, &rng](int, float* x) { opt.train_augment(train, idx, rng, x); }, true)
                                : detail::make_encoder(train, idx, opt.encoding, rng);
        const auto steps = choose_backward_steps(opt.time_steps, k, rng);
        const auto r = train_batch(model, optim, lr, static_cast<int>(idx.size()), opt.time_steps, encode, labels, opt.loss,
                                   schedule, steps);
        loss_sum += r.loss * r.samples;
        correct += r.correct;
        seen += r.samples;
        if (opt.after_batch) opt.after_batch(epoch, b, r);
        if (!opt.quiet) bar.update(b + 1, loss_sum / seen, static_cast<double>(correct) / seen);
      }
      io::checkpoint_state ck;
      ck.network = signature;
      ck.method = to_string(opt.method);
      ck.optimizer = to_string(opt.optimizer.kind);
      ck.epochs_done = epoch + 1;
      ck.optimizer_steps = optim.steps();
      ck.seed = opt.seed;
      ck.run_config = detail::run_config(opt, train);
      ck.parameters.resize(static_cast<std::size_t>(model.parameter_count()));
      model.copy_parameters_to(ck.parameters);
      ck.optimizer_state.resize(static_cast<std::size_t>(model.parameter_count() * model.optimizer_slots()));
      model.copy_optimizer_state_to(ck.optimizer_state);
      ck.statistics.resize(static_cast<std::size_t>(detail::statistics_count(model)));
      if constexpr (detail::has_statistics<Model>) model.copy_statistics_to(ck.statistics);
      // The epoch's last update can leave NaN or infinity in the model before any loss shows it.
      detail::require_finite(ck, epoch + 1);
      const double test_acc = evaluate(model, test, opt.batch_size, opt.time_steps, opt.encoding, rng);
      const double seconds = bar.seconds_since_start();
      io::save_checkpoint(checkpoint_path, ck);
      // Firing rates on a few test images (on the CPU, after the checkpoint: a failure here loses no
      // epoch): a layer that never fires is worth a line.
      std::vector<double> rates;
      bool have_rates = false;
      if (test.count > 0) {
        try {
          if (!probe) probe = std::make_unique<firing_rate_probe<Net>>(opt.seed);
          rates = probe->rates(ck.parameters, ck.statistics, test, opt.time_steps, opt.encoding, opt.seed);
          have_rates = true;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "note: the firing rates of epoch %d could not be measured (%s)\n", epoch + 1, e.what());
        }
        const auto& layers = firing_rate_probe<Net>::neuron_layers();
        for (std::size_t k = 0; k < rates.size(); ++k)
          if (rates[k] == 0.0 && !opt.quiet)
            std::fprintf(stderr,
                         "warning: after epoch %d the neuron layer at node %zu (%s) fired no spike on the first %d test "
                         "images: a silent layer passes almost no gradient (check v_threshold, the input's scale, the "
                         "learning rate)\n",
                         epoch + 1, layers[k].node, layers[k].name.c_str(), std::min(firing_rate_probe<Net>::samples, test.count));
      }
      // The epoch's record follows its checkpoint: a failed save leaves no line that --resume would repeat.
      io::json_record record;
      record.add("event", "epoch")
          .add("epoch", epoch + 1)
          .add("train_loss", loss_sum / seen)
          .add("train_accuracy", static_cast<double>(correct) / seen)
          .add("test_accuracy", test_acc)
          .add("lr", static_cast<double>(lr));
      if (have_rates) record.add("spike_rates", rates);  // left out without test images or a measurement
      metrics.write(record.add("seconds", seconds));
      if (!opt.quiet)
        std::fprintf(stderr, "epoch %d/%d: train loss %.4f, train acc %.2f%%, test acc %.2f%% (%.1f s)\n", epoch + 1, opt.epochs,
                     loss_sum / seen, 100.0 * correct / seen, 100.0 * test_acc, seconds);
      result.final_test_accuracy = test_acc;
      ++result.epochs_run;
      result.total_epochs = epoch + 1;
    }
  } catch (const std::exception& e) {
    // The record says why the run stopped, so that a script can tell a failed run from one still going.
    try {
      metrics.write(io::json_record{}.add("event", "error").add("epoch", epoch_running + 1).add("message", e.what()));
    } catch (...) {  // a full disk: the exception that stopped the run is the one to report
    }
    throw;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics.write(io::json_record{}.add("event", "end").add("test_accuracy", result.final_test_accuracy).add("seconds", result.seconds));
  return result;
}

namespace detail {
/// One line, once per process, where OpenMP's idle threads would spin: on a machine with other load
/// they take the cores the GEMMs need, and a new user's own program trained several times slower
/// than the example binaries, which set OMP_WAIT_POLICY=passive (io/openmp_env.hpp).
inline void note_spinning_openmp_threads() {
#if defined(_OPENMP)
  static std::atomic<bool> said{false};
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || omp_get_max_threads() < 2 || said.exchange(true)) return;
  std::fprintf(stderr,
               "note: OMP_WAIT_POLICY is not set, so idle OpenMP threads spin; on a busy machine that can slow training "
               "several-fold. Run with OMP_WAIT_POLICY=passive, or call spikefuse::io::ensure_passive_openmp_wait(argv) "
               "(spikefuse/io/openmp_env.hpp) first in main (docs/tutorial.md)\n");
#endif
}
}  // namespace detail

/// Trains `Net` on the CPU backend (see fit_model).
template <class Net>
fit_result fit(const fit_options& opt, const data::dataset& train, const data::dataset& test) {
  if (!opt.quiet) detail::note_spinning_openmp_threads();
  cpu::model<Net> model(detail::largest_batch(opt, train, test), optimizer_slots(opt.optimizer), opt.seed);
  return fit_model(model, opt, train, test);
}

}  // namespace spikefuse
