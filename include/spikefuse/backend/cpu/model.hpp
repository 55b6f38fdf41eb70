// CPU backend model: per time step, forward node 1..n then backward n..1 on buffers carved from one plan-sized arena.
//
// The node loop is a fold over the network's plain template pack calling layer_impl<L> (one
// specialisation per layer, next to its kernels) on the buffers of the node it reads; every neuron
// layer costs one fused pass forward and one backward (lif.hpp), every Linear a GEMM (linear.hpp),
// every convolution im2col + GEMM (conv2d.hpp). A residual add sums its two sources; a node whose
// source has a later consumer too writes its ∂input to scratch and adds it. Memory is the
// memory plan of the network for `max_batch`, allocated once: it does not depend on T.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "spikefuse/backend/cpu/arena.hpp"
#include "spikefuse/backend/parameters.hpp"
#include "spikefuse/backend/cpu/batch_norm.hpp"
#include "spikefuse/backend/cpu/conv2d.hpp"
#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/backend/cpu/lif.hpp"
#include "spikefuse/backend/cpu/linear.hpp"
#include "spikefuse/backend/cpu/pass_through.hpp"
#include "spikefuse/backend/cpu/pooling.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/dsl/plan.hpp"

namespace spikefuse::cpu {

template <class Net>
class model {
  static_assert(is_network<Net>, "spikefuse: cpu::model expects a spikefuse::Network<...>");

 public:
  using network = Net;
  static constexpr std::size_t depth = Net::depth;

  /// Allocates the whole memory plan for batches up to `max_batch`; `optimizer_slots` floats of
  /// optimizer state per parameter (SGD with momentum: 1, Adam: 2). Weights get PyTorch's default
  /// Linear initialisation, U(−1/√in, 1/√in), from `seed`. `options.keep_outputs`: every layer's
  /// output stays readable through output_of() (otherwise outputs share memory by liveness).
  model(int max_batch, int optimizer_slots, std::uint64_t seed, plan_options options = {})
      : plan_(make_plan<Net>(checked_batch(max_batch), 0, checked_slots(optimizer_slots), checked_layout(std::move(options)))),
        arena_(floats_in(plan_)),
        max_batch_(max_batch),
        optimizer_slots_(optimizer_slots),
        uniform_(seed) {
    carve();
    initialise_parameters();
  }

  model(const model&) = delete;
  model& operator=(const model&) = delete;

  const memory_plan& plan() const { return plan_; }
  std::size_t allocated_bytes() const { return arena_.capacity_bytes(); }
  int max_batch() const { return max_batch_; }
  int optimizer_slots() const { return optimizer_slots_; }

  /// Restarts the dropout-mask stream, so that a run resumed at an epoch draws the same masks as an
  /// uninterrupted one (fit reseeds at every epoch).
  void reseed(std::uint64_t seed) { uniform_.seed(seed); }
  int batch() const { return batch_; }

  // ---- sequence lifecycle -------------------------------------------------------------------

  /// Start a new sequence of `batch` samples: v = v_init, â = 0, Σ logits = 0, and (training) a new
  /// dropout mask. SpikingJelly's functional.reset_net between batches.
  void reset_state(int batch, phase ph) {
    if (batch < 1 || batch > max_batch_)
      throw std::invalid_argument("spikefuse: batch of " + std::to_string(batch) + " samples, but the model was built for at most " +
                                  std::to_string(max_batch_));
    batch_ = batch;
    for_each_layer([&]<std::size_t I>() { reset_layer<I>(ph); });
  }

  /// Where the caller writes x_t: batch × input_size floats.
  float* input() { return buf_[0].out; }

  /// One forward step of every layer; adds the logits to logits_sum(). `input_and_parameters_unchanged`:
  /// the caller guarantees the same input and parameters as the previous forward of this sequence,
  /// so the layers that depend on nothing else and are worth keeping (Network::reuses_output) keep their outputs.
  void forward(phase ph, bool input_and_parameters_unchanged = false) {
    for_each_layer([&]<std::size_t I>() {
      if constexpr (I > 0) {
        if (!(Net::reuses_output[I] && input_and_parameters_unchanged)) forward_layer<I>(ph);
      }
    });
    const long long n = static_cast<long long>(batch_) * Net::num_outputs;
    float* sum = buf_[depth].logits_sum;
    const float* y = buf_[depth].out;
    for (long long i = 0; i < n; ++i) sum[i] += y[i];
  }

  /// Backward of the last forward(phase::train), from logits_grad(); parameter gradients += .
  /// It must follow that forward directly (no other forward or reset_state between): it reads what
  /// the forward left in the shared pool and the neurons' membranes (ψ of a soft reset is recomputed
  /// from them).
  /// `defer_static_weight_gradients` (the caller guarantees a static input and no update before
  /// flush_deferred_gradients()): the Linear layers that see only the input
  /// (Network::defers_weight_gradient) add ∂out to a per-batch sum instead of running dW += δᵀ·x;
  /// their bias gradient and ∂input are computed as usual.
  void backward(bool defer_static_weight_gradients = false) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (backward_node<depth - I>(defer_static_weight_gradients), ...);
    }(std::make_index_sequence<depth>{});
  }

  /// dW += (Σ_t δ_t)ᵀ·x for the layers whose weight gradient backward() deferred: one GEMM per batch
  /// where there were T. Call before the optimizer reads the gradients; reset_state() restarts the sums.
  void flush_deferred_gradients() {
    for_each_layer([&]<std::size_t I>() {
      if constexpr (Net::template defers_weight_gradient<I>) {
        using L = typename Net::template layer_at<I>;
        constexpr int in_features = static_cast<int>(Net::template input_port_at<I>::size);
        linear_backward_weight(batch_, in_features, L::out_features, buf_[I].grad_sum,
                               buf_[Net::template source_of<I>].out, buf_[I].grad_weight);
      }
    });
  }

  const float* logits() const { return buf_[depth].out; }
  float* logits_grad() { return buf_[depth].grad_out; }
  const float* logits_sum() const { return buf_[depth].logits_sum; }

  // ---- parameters ----------------------------------------------------------------------------

  std::span<float> parameters() { return {params_, static_cast<std::size_t>(num_params_)}; }
  std::span<const float> parameters() const { return {params_, static_cast<std::size_t>(num_params_)}; }
  std::span<float> gradients() { return {grads_, static_cast<std::size_t>(num_params_)}; }
  std::span<const float> gradients() const { return {grads_, static_cast<std::size_t>(num_params_)}; }
  /// Optimizer slot k (0-based), one float per parameter.
  std::span<float> optimizer_slot(int k) {
    if (k < 0 || k >= optimizer_slots_)
      throw std::out_of_range("spikefuse: optimizer slot " + std::to_string(k) + " requested, but the model was built with " +
                              std::to_string(optimizer_slots_));
    return {slots_ + static_cast<long long>(k) * num_params_, static_cast<std::size_t>(num_params_)};
  }
  /// All optimizer slots, slot after slot: what a checkpoint saves and restores.
  std::span<float> optimizer_state() {
    return {slots_, static_cast<std::size_t>(num_params_) * static_cast<std::size_t>(optimizer_slots_)};
  }
  // Host copies, the same calls on every backend (checkpoints, tests).
  long long parameter_count() const { return num_params_; }
  void copy_parameters_to(std::span<float> out) const { copy_exact(parameters(), out); }
  void load_parameters(std::span<const float> in) { copy_exact(in, parameters()); }
  void copy_optimizer_state_to(std::span<float> out) { copy_exact(std::span<const float>(optimizer_state()), out); }
  void load_optimizer_state(std::span<const float> in) { copy_exact(in, optimizer_state()); }
  const std::vector<parameter_tensor>& tensors() const { return tensors_; }
  /// Running statistics (BatchNorm running mean and variance): not trained, saved in checkpoints.
  std::span<float> statistics() { return {statistics_, static_cast<std::size_t>(num_statistics_)}; }
  std::span<const float> statistics() const { return {statistics_, static_cast<std::size_t>(num_statistics_)}; }
  long long statistics_count() const { return num_statistics_; }
  void copy_statistics_to(std::span<float> out) const { copy_exact(statistics(), out); }
  void load_statistics(std::span<const float> in) { copy_exact(in, statistics()); }
  const std::vector<parameter_tensor>& statistic_tensors() const { return statistic_tensors_; }
  void zero_grad() {
    for (long long i = 0; i < num_params_; ++i) grads_[i] = 0.f;
  }

  std::span<float> tensor(const parameter_tensor& t) { return {params_ + t.offset, static_cast<std::size_t>(t.size)}; }
  std::span<float> tensor_grad(const parameter_tensor& t) { return {grads_ + t.offset, static_cast<std::size_t>(t.size)}; }

  // ---- inspection (tests, monitors) ----------------------------------------------------------

  /// Output of layer I for the current batch (spikes of a neuron, current of a Linear). Layers whose
  /// output the plan shares with later buffers are refused unless the model keeps outputs.
  const float* output_of(std::size_t layer) const {
    return kept(layer, plan_.layers.at(plan_.storage_of(layer)).out_at, buf_.at(layer).out);
  }
  const float* membrane_of(std::size_t layer) const { return buf_.at(layer).v; }
  const float* trace_of(std::size_t layer) const { return buf_.at(layer).trace; }
  /// Trace flowing out of layer I (OTTT training: the neuron's trace after pass-through ops).
  const float* output_trace_of(std::size_t layer) const {
    return kept(layer, plan_.layers.at(plan_.storage_of(layer)).out_trace_at, buf_.at(layer).out_trace);
  }

 private:

  static void copy_exact(std::span<const float> from, std::span<float> to) {
    if (from.size() != to.size())
      throw std::invalid_argument("spikefuse: " + std::to_string(from.size()) + " values given for " +
                                  std::to_string(to.size()));
    std::copy(from.begin(), from.end(), to.begin());
  }
  static const float* kept(std::size_t layer, long long shared_at, const float* buffer) {
    if (shared_at >= 0)
      throw std::logic_error("spikefuse: the output of layer " + std::to_string(layer) +
                             " shares memory with later buffers; build the model with plan_options{.keep_outputs = true} to read it");
    return buffer;
  }
  static std::size_t floats_in(const memory_plan& p) { return p.total_bytes() / sizeof(float); }
  static int checked_batch(int b) {
    if (b < 1) throw std::invalid_argument("spikefuse: batch size must be at least 1");
    return b;
  }
  static int checked_slots(int k) {
    if (k < 0) throw std::invalid_argument("spikefuse: optimizer_slots must be >= 0");
    return k;
  }
  static plan_options checked_layout(plan_options options) {
    if (!options.untouched_outputs.empty() || !options.untouched_gradients.empty() || !options.untouched_traces.empty() ||
        !options.deferred_weight_gradients || !options.spike_bits_per_sample.empty() || !options.im2col_columns ||
        options.im2col_chunk_floats != conv_geometry::default_chunk_floats)
      throw std::invalid_argument("spikefuse: the CPU backend runs every node, defers static-input weight gradients and "
                                  "convolves through im2col columns of the default size; untouched_outputs / untouched_gradients / "
                                  "untouched_traces / spike_bits_per_sample / deferred_weight_gradients = false / "
                                  "im2col_columns = false / im2col_chunk_floats describe another backend's layout");
    return options;
  }

  template <class F>
  static void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(
        std::make_index_sequence<depth + 1>{});
  }

  void carve() {
    num_params_ = plan_.parameter_count();
    num_statistics_ = plan_.statistics_count();
    params_ = arena_.take(num_params_);
    grads_ = arena_.take(num_params_);
    slots_ = arena_.take(num_params_ * optimizer_slots_);
    statistics_ = arena_.take(num_statistics_);
    float* scratch = arena_.take(plan_.scratch_floats());
    float* pool = arena_.take(plan_.shared_pool);
    // A node that read a pooled buffer before it was written would read another node's values; NaN
    // makes that visible in the first step instead of a silently wrong result.
    std::fill_n(pool, plan_.shared_pool, std::numeric_limits<float>::quiet_NaN());
    tensors_ = parameter_layout<Net>();
    statistic_tensors_ = statistics_layout<Net>();
    for_each_layer([&]<std::size_t I>() {
      const auto& f = plan_.layers[I].floats;
      auto& b = buf_[I];
      if (plan_.layers[I].aliases_input) {
        b = buf_[Net::template source_of<I>];
        b.v = b.trace = b.mask = b.psi = b.saved = b.weight_hat = b.grad_scratch = b.statistics = b.grad_sum = nullptr;
        b.spike_bits = nullptr;
        b.grad_weight_hat = nullptr;
        b.weight = b.bias = b.gain = b.grad_weight = b.grad_bias = b.grad_gain = nullptr;
        b.logits_sum = arena_.take(f.logits_sum);  // an aliasing layer may still be the head
        return;
      }
      const auto& row = plan_.layers[I];
      auto place = [&](long long at, long long floats) { return at >= 0 ? pool + at : arena_.take(floats); };
      b.out = place(row.out_at, f.out);
      b.out_trace = place(row.out_trace_at, f.out_trace);
      b.psi = place(row.psi_at, f.psi);
      // 32-bit words in float-sized slots of the arena (spike bits are never read as floats).
      b.spike_bits = reinterpret_cast<lif::spike_word*>(place(row.spike_bits_at, f.spike_bits));
      b.grad_out = place(row.grad_out_at, f.grad_out);
      b.v = arena_.take(f.v);
      b.trace = arena_.take(f.trace);
      b.mask = arena_.take(f.mask);
      b.logits_sum = arena_.take(f.logits_sum);
      b.saved = arena_.take(f.saved);
      b.weight_hat = place(row.weight_hat_at, f.weight_hat);
      b.grad_weight_hat = place(row.grad_weight_hat_at, f.grad_weight_hat);
      b.grad_scratch = place(row.grad_scratch_at, f.grad_scratch);
      b.grad_sum = arena_.take(f.grad_sum);
      b.scratch = f.scratch ? scratch : nullptr;
      using L = typename Net::template layer_at<I>;
      if constexpr (is_neuron<L>) {
        if constexpr (L::keeps_trace) b.out_trace = b.trace;  // the state is the output trace
      }
      if constexpr (parametric_layer<L>) {
        auto bind = [&](const char* field, float*& value, float*& grad) {
          const long long at = tensor_offset(tensors_, I, field);
          value = at < 0 ? nullptr : params_ + at;
          grad = at < 0 ? nullptr : grads_ + at;
        };
        bind("weight", b.weight, b.grad_weight);
        bind("bias", b.bias, b.grad_bias);
        bind("gain", b.gain, b.grad_gain);
        const long long at = tensor_offset(statistic_tensors_, I, "running_mean");
        b.statistics = at < 0 ? nullptr : statistics_ + at;
      }
    });
    if (spikefuse::floats_in(tensors_) != num_params_ || spikefuse::floats_in(statistic_tensors_) != num_statistics_ ||
        arena_.used_bytes() != arena_.capacity_bytes())
      throw std::logic_error("spikefuse: CPU backend layout disagrees with the memory plan");
  }

  void initialise_parameters() {
    spikefuse::initialise_parameters(tensors_, params_, uniform_);
    spikefuse::initialise_parameters(statistic_tensors_, statistics_, uniform_);
  }

  template <std::size_t I>
  void reset_layer(phase ph) {
    using Out = typename Net::template port_at<I>;
    if constexpr (I > 0 && !is_residual_add<typename Net::template layer_at<I>>) {
      using L = typename Net::template layer_at<I>;
      layer_impl<L>::template reset<typename Net::template input_port_at<I>, Out>(batch_, ph, buf_[I], uniform_);
    }
    if constexpr (I == depth) {
      const long long n = static_cast<long long>(batch_) * Out::size;
      for (long long i = 0; i < n; ++i) buf_[I].logits_sum[i] = 0.f;
    }
    if constexpr (Net::template defers_weight_gradient<I>)  // Σ_t ∂out restarts with the sequence
      std::fill_n(buf_[I].grad_sum, static_cast<long long>(batch_) * Out::size, 0.f);
  }

  template <std::size_t I>
  void forward_layer(phase ph) {
    using L = typename Net::template layer_at<I>;
    constexpr std::size_t source = Net::template source_of<I>;
    if constexpr (is_residual_add<L>) {
      constexpr std::size_t second = static_cast<std::size_t>(Net::template second_source_of<I>);
      add(static_cast<long long>(batch_) * Net::template port_at<I>::size, buf_[source].out, buf_[second].out, buf_[I].out);
    } else {
      // Where no backward arrives, keep nothing for one (the plan gives those layers no ψ), while
      // state and trace advance as in any training step.
      const phase layer_phase = (ph == phase::train && !Net::needs_grad[I]) ? phase::train_no_grad : ph;
      layer_impl<L>::template forward<typename Net::template port_at<source>, typename Net::template port_at<I>>(
          batch_, layer_phase, buf_[source], buf_[I]);
    }
  }

  /// ∂input of node I into node `Source`'s ∂out: written directly, or through scratch and added when
  /// a later node reading `Source` has already written its share.
  template <std::size_t I, std::size_t Source, class Write>
  void send_gradient(Write&& write) {
    if constexpr (!Net::needs_grad[Source]) {
      return;
    } else if constexpr (Net::template accumulates_into<I, static_cast<int>(Source)>) {
      layer_buffers through = buf_[Source];
      through.grad_out = buf_[I].grad_scratch;
      write(through);
      add(static_cast<long long>(batch_) * Net::template port_at<Source>::size, buf_[Source].grad_out, through.grad_out,
          buf_[Source].grad_out);
    } else {
      write(buf_[Source]);
    }
  }

  template <std::size_t I>
  void backward_node(bool defer_static_weight_gradients) {
    if constexpr (Net::needs_grad[I]) {
      using L = typename Net::template layer_at<I>;
      constexpr std::size_t source = Net::template source_of<I>;
      const long long n = static_cast<long long>(batch_) * Net::template port_at<I>::size;
      if constexpr (Net::template defers_weight_gradient<I>) {
        if (defer_static_weight_gradients) {
          float* sum = buf_[I].grad_sum;
          const float* delta = buf_[I].grad_out;
          for (long long i = 0; i < n; ++i) sum[i] += delta[i];
          if (buf_[I].grad_bias) linear_backward_bias(batch_, L::out_features, delta, buf_[I].grad_bias);
          if constexpr (Net::needs_grad[source]) {
            constexpr int in_features = static_cast<int>(Net::template port_at<source>::size);
            send_gradient<I, source>([&](layer_buffers& in) {
              linear_backward_input(batch_, in_features, L::out_features, delta, buf_[I].weight, in.grad_out);
            });
          }
          return;
        }
      }
      if constexpr (is_residual_add<L>) {
        constexpr std::size_t second = static_cast<std::size_t>(Net::template second_source_of<I>);
        send_gradient<I, source>([&](layer_buffers& in) { copy(n, buf_[I].grad_out, in.grad_out); });
        send_gradient<I, second>([&](layer_buffers& in) { copy(n, buf_[I].grad_out, in.grad_out); });
      } else {
        using In = typename Net::template port_at<source>;
        using Out = typename Net::template port_at<I>;
        if constexpr (Net::needs_grad[source]) {
          send_gradient<I, source>([&](layer_buffers& in) { layer_impl<L>::template backward<In, Out, true>(batch_, in, buf_[I]); });
        } else {
          layer_impl<L>::template backward<In, Out, false>(batch_, buf_[source], buf_[I]);
        }
      }
    }
  }

  static void add(long long n, const float* a, const float* b, float* out) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (long long i = 0; i < n; ++i) out[i] = a[i] + b[i];
  }

  memory_plan plan_;
  arena arena_;
  int max_batch_;
  int optimizer_slots_;
  int batch_ = 0;
  uniform01 uniform_;  // initialisation, then dropout masks
  std::array<layer_buffers, depth + 1> buf_{};
  float* params_ = nullptr;
  float* grads_ = nullptr;
  float* slots_ = nullptr;
  float* statistics_ = nullptr;
  long long num_params_ = 0;
  long long num_statistics_ = 0;
  std::vector<parameter_tensor> tensors_;
  std::vector<parameter_tensor> statistic_tensors_;
};

}  // namespace spikefuse::cpu
