// CPU backend model: per time step, forward layer 1..n then backward n..1 on buffers carved from one plan-sized arena.
//
// The layer loop is a fold over the network's plain template pack calling layer_impl<L> (one
// specialisation per layer, next to its kernels); every neuron layer costs one fused pass forward
// and one backward (lif.hpp), every Linear a GEMM (linear.hpp). Memory is the
// memory plan of the network for `max_batch`, allocated once: it does not depend on T.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "spikefuse/backend/cpu/arena.hpp"
#include "spikefuse/backend/parameters.hpp"
#include "spikefuse/backend/cpu/layer_impl.hpp"
#include "spikefuse/backend/cpu/lif.hpp"
#include "spikefuse/backend/cpu/linear.hpp"
#include "spikefuse/backend/cpu/pass_through.hpp"
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
  /// Linear initialisation, U(−1/√in, 1/√in), from `seed`.
  model(int max_batch, int optimizer_slots, std::uint64_t seed)
      : plan_(make_plan<Net>(checked_batch(max_batch), 0, checked_slots(optimizer_slots))),
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

  /// One forward step of every layer; adds the logits to logits_sum().
  void forward(phase ph) {
    for_each_layer([&]<std::size_t I>() {
      if constexpr (I > 0) forward_layer<I>(ph);
    });
    const long long n = static_cast<long long>(batch_) * Net::num_outputs;
    float* sum = buf_[depth].logits_sum;
    const float* y = buf_[depth].out;
    for (long long i = 0; i < n; ++i) sum[i] += y[i];
  }

  /// Backward of the last forward(phase::train), from logits_grad(); parameter gradients += .
  void backward() {
    backward_from<depth>();
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
  void zero_grad() {
    for (long long i = 0; i < num_params_; ++i) grads_[i] = 0.f;
  }

  std::span<float> tensor(const parameter_tensor& t) { return {params_ + t.offset, static_cast<std::size_t>(t.size)}; }
  std::span<float> tensor_grad(const parameter_tensor& t) { return {grads_ + t.offset, static_cast<std::size_t>(t.size)}; }

  // ---- inspection (tests, monitors) ----------------------------------------------------------

  /// Output of layer I for the current batch (spikes of a neuron, current of a Linear).
  const float* output_of(std::size_t layer) const { return buf_.at(layer).out; }
  const float* membrane_of(std::size_t layer) const { return buf_.at(layer).v; }
  const float* trace_of(std::size_t layer) const { return buf_.at(layer).trace; }
  /// Trace flowing out of layer I (OTTT training: the neuron's trace after pass-through ops).
  const float* output_trace_of(std::size_t layer) const { return buf_.at(layer).out_trace; }

 private:

  static void copy_exact(std::span<const float> from, std::span<float> to) {
    if (from.size() != to.size())
      throw std::invalid_argument("spikefuse: " + std::to_string(from.size()) + " values given for " +
                                  std::to_string(to.size()));
    std::copy(from.begin(), from.end(), to.begin());
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

  template <class F>
  static void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(
        std::make_index_sequence<depth + 1>{});
  }

  void carve() {
    num_params_ = plan_.parameter_count();
    params_ = arena_.take(num_params_);
    grads_ = arena_.take(num_params_);
    slots_ = arena_.take(num_params_ * optimizer_slots_);
    tensors_ = parameter_layout<Net>();
    for_each_layer([&]<std::size_t I>() {
      const auto& f = plan_.layers[I].floats;
      auto& b = buf_[I];
      if (plan_.layers[I].aliases_input) {
        b = buf_[I - 1];
        b.v = b.trace = b.mask = b.psi = nullptr;
        b.weight = b.bias = b.grad_weight = b.grad_bias = nullptr;
        b.logits_sum = arena_.take(f.logits_sum);  // an aliasing layer may still be the head
        return;
      }
      b.out = arena_.take(f.out);
      b.out_trace = arena_.take(f.out_trace);
      b.psi = arena_.take(f.psi);
      b.grad_out = arena_.take(f.grad_out);
      b.v = arena_.take(f.v);
      b.trace = arena_.take(f.trace);
      b.mask = arena_.take(f.mask);
      b.logits_sum = arena_.take(f.logits_sum);
      using L = typename Net::template layer_at<I>;
      if constexpr (is_neuron<L>) {
        if constexpr (L::keeps_trace) b.out_trace = b.trace;  // the state is the output trace
      }
      if constexpr (is_linear<L>) {
        const long long w = tensor_offset(tensors_, I, "weight");
        b.weight = params_ + w;
        b.grad_weight = grads_ + w;
        if constexpr (L::has_bias) {
          const long long bias = tensor_offset(tensors_, I, "bias");
          b.bias = params_ + bias;
          b.grad_bias = grads_ + bias;
        }
      }
    });
    const long long offset = tensors_.empty() ? 0 : tensors_.back().offset + tensors_.back().size;
    if (offset != num_params_ || arena_.used_bytes() != arena_.capacity_bytes())
      throw std::logic_error("spikefuse: CPU backend layout disagrees with the memory plan");
  }

  void initialise_parameters() { spikefuse::initialise_parameters(tensors_, params_, uniform_); }

  template <std::size_t I>
  void reset_layer(phase ph) {
    using Out = typename Net::template port_at<I>;
    if constexpr (I > 0) {
      using L = typename Net::template layer_at<I>;
      layer_impl<L>::template reset<typename Net::template port_at<I - 1>, Out>(batch_, ph, buf_[I], uniform_);
    }
    if constexpr (I == depth) {
      const long long n = static_cast<long long>(batch_) * Out::size;
      for (long long i = 0; i < n; ++i) buf_[I].logits_sum[i] = 0.f;
    }
  }

  template <std::size_t I>
  void forward_layer(phase ph) {
    using L = typename Net::template layer_at<I>;
    // Below the first parametric layer no backward arrives: keep nothing for one (the plan gives
    // those layers no ψ), while state and trace advance as in any training step.
    const phase layer_phase = (ph == phase::train && I < Net::first_parametric) ? phase::train_no_grad : ph;
    layer_impl<L>::template forward<typename Net::template port_at<I - 1>, typename Net::template port_at<I>>(
        batch_, layer_phase, buf_[I - 1], buf_[I]);
  }

  template <std::size_t I>
  void backward_from() {
    if constexpr (I >= Net::first_parametric && I > 0) {
      using L = typename Net::template layer_at<I>;
      constexpr bool grad_to_input = I - 1 >= Net::first_parametric;
      layer_impl<L>::template backward<typename Net::template port_at<I - 1>, typename Net::template port_at<I>,
                                       grad_to_input>(batch_, buf_[I - 1], buf_[I]);
      backward_from<I - 1>();
    }
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
  long long num_params_ = 0;
  std::vector<parameter_tensor> tensors_;
};

}  // namespace spikefuse::cpu
