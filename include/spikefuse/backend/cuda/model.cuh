// CUDA backend model: per time step, forward node 1..n, the head (loss), backward n..1, as a few fused kernels captured in one CUDA graph.
//
// The node loop is a fold over the network's plain template pack calling cuda::layer_impl<L> (one
// specialisation per layer, next to its kernels) on the buffers of the node it reads; a residual add
// is one kernel, and a second gradient share into a fork is added by another, as on the CPU
// (backend/cpu/model.hpp). Boost.Hana stays in the DSL. Per step and layer (convolutional layers:
// conv2d.cuh, pooling.cuh, batch_norm.cuh):
// a Linear is 1 GEMM forward and 2 backward (β = 1 for dW, accumulated in place); a neuron is 1 fused
// kernel each way, which also adds the bias of the Linear feeding it and reduces that bias's
// gradient, and does the Scale and the tiling average pooling that follow it (fusion_of); the head is 1 kernel (bias, Σ_t logits, loss, ∂loss, head bias gradient). All buffers
// are carved from one device allocation sized by the network's memory plan (plus the bias-reduction
// workspace), allocated once: memory does not depend on T. Parameters are initialised on the host
// from the same uniform01 stream as the CPU backend, so both start from identical weights.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "spikefuse/backend/cuda/batch_norm.cuh"
#include "spikefuse/backend/cuda/blas.cuh"
#include "spikefuse/backend/cuda/conv2d.cuh"
#include "spikefuse/backend/cuda/device_memory.cuh"
#include "spikefuse/backend/cuda/error.cuh"
#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/cuda/layer_impl.cuh"
#include "spikefuse/backend/cuda/lif_layer.cuh"
#include "spikefuse/backend/cuda/linear.cuh"
#include "spikefuse/backend/cuda/loss.cuh"
#include "spikefuse/backend/cuda/pooling.cuh"
#include "spikefuse/backend/cuda/optimizer.cuh"
#include "spikefuse/backend/cuda/pass_through.cuh"
#include "spikefuse/backend/cuda/stream.cuh"
#include "spikefuse/backend/parameters.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/core/random.hpp"
#include "spikefuse/dsl/plan.hpp"
#include "spikefuse/train/loss.hpp"
#include "spikefuse/train/optimizer.hpp"

namespace spikefuse::cuda {

struct model_options {
  bool graphs = true;                             // capture each step once, replay it (off: plain launches, for debugging)
  gemm_precision precision = gemm_precision::fp32;
  int device = 0;
  bool keep_fused_spikes = false;  // store the spikes a fused Scale or pooling reads inside the neuron's kernel (output_of on that neuron)
  bool keep_outputs = false;  // every stored output in a buffer of its own for the whole step (output_of); off: shared by liveness
  bool share_buffers = true;  // off: no buffer shared by liveness at all (the layout before sharing; a reference for tests)
  convolution_backend convolutions = convolution_backend::im2col;  // Conv2d / WSConv2d: im2col + cuBLAS, or cuDNN
  /// im2col: the cap, in MiB (1 to 4096), on a chunk's columns and gathered ∂ in the buffer all
  /// convolutions share (one sample's always fit, even above it). Larger chunks make wider GEMMs and
  /// fewer launches for more memory (bench/cuda_conv_train_step.cu times 16, 32 and 64).
  int im2col_chunk_mib = 16;
};

template <class Net>
class model {
  static_assert(is_network<Net>, "spikefuse: cuda::model expects a spikefuse::Network<...>");

 public:
  using network = Net;
  static constexpr bool runs_on_device = true;  // train_batch forwards to device_train_batch (trainer.cuh)
  static constexpr std::size_t depth = Net::depth;
  static constexpr int classes = static_cast<int>(Net::num_outputs);

  /// Allocates everything for batches up to `max_batch`; `optimizer_slots` floats of optimizer state
  /// per parameter. Throws cuda_error when there is no usable device.
  model(int max_batch, int optimizer_slots, std::uint64_t seed, model_options options = {})
      : plan_(plan_for(checked_batch(max_batch), checked_slots(optimizer_slots), options)),
        options_(options),
        max_batch_(max_batch),
        optimizer_slots_(optimizer_slots),
        uniform_(seed),
        tensors_(parameter_layout<Net>()),
        device_(select_device(options.device)),
        blas_(stream_.get(), options.precision),
        cudnn_(options.convolutions == convolution_backend::cudnn
                   ? std::make_unique<cudnn_convolutions>(stream_.get(), options.precision)
                   : nullptr),
        input_staging_{pinned_array<float>(input_floats()), pinned_array<float>(input_floats())},
        label_staging_(static_cast<std::size_t>(max_batch)),
        accumulator_host_(1) {
    device_arena sizer;
    carve(sizer);
    arena_ = device_arena(sizer.used_bytes());
    carve(arena_);
    // All-ones bytes are a NaN: a read of a pooled buffer before its write shows in the first step.
    // On the model's stream: a cudaMemset on the legacy stream is not ordered before the steps on
    // this non-blocking stream.
    if (shared_pool_)
      SF_CUDA_CHECK(cudaMemsetAsync(shared_pool_, 0xFF, sizeof(float) * static_cast<std::size_t>(plan_.shared_pool), stream_.get()));
    initialise();
    warm_up_blas();
  }

  /// How this backend lays out the memory plan: every output kept or shared (keep_outputs), and no
  /// buffers for what the fused neuron kernels never touch — the spikes a fused Scale or pooling
  /// reads inside the kernel (unless keep_fused_spikes), a Scale inside a fused pooling, and the ∂
  /// of both (the kernel reads the ∂ of the last layer it does).
  static plan_options layout_options(const model_options& options) {
    plan_options layout{.keep_outputs = options.keep_outputs, .share_buffers = options.share_buffers};
    layout.deferred_weight_gradients = false;  // this backend runs a Linear's dW GEMM at every step
    layout.psi_from_spike_bits = true;         // soft-reset neurons keep spike bits, not ψ
    layout.im2col_columns = options.convolutions == convolution_backend::im2col;  // cuDNN needs no columns
    layout.im2col_chunk_floats = chunk_floats(options);
    layout.keep_output_of.assign(depth + 1, false);
    layout.untouched_outputs.assign(depth + 1, false);
    layout.untouched_gradients.assign(depth + 1, false);
    layout.spike_bits_per_sample.assign(depth + 1, 0);
    layout.untouched_traces.assign(depth + 1, false);
    for_each_layer([&]<std::size_t I>() {
      layout.untouched_outputs[I] = skipped_between<I> || (spikes_read_inside_kernel<I> && !options.keep_fused_spikes);
      layout.untouched_gradients[I] = skipped_between<I> || spikes_read_inside_kernel<I>;
      layout.keep_output_of[I] = spikes_read_inside_kernel<I> && options.keep_fused_spikes;  // stored to be read
      if constexpr (is_neuron<typename Net::template layer_at<I>>) layout.spike_bits_per_sample[I] = spike_bits_per_sample<I>;
      layout.untouched_traces[I] = trace_read_from_neuron<I>;
    });
    return layout;
  }
  /// The memory plan this backend allocates for `max_batch` (host only: no device needed).
  static memory_plan plan_for(int max_batch, int optimizer_slots, const model_options& options = {}) {
    const int batch = checked_batch(max_batch);
    if (options.convolutions == convolution_backend::im2col) check_convolution_chunks(batch, chunk_floats(options));
    return make_plan<Net>(batch, 0, checked_slots(optimizer_slots), layout_options(options));
  }

  model(const model&) = delete;
  model& operator=(const model&) = delete;
  /// Work still queued may read the pinned staging buffers and the arena: finish it before they go.
  ~model() { cudaStreamSynchronize(stream_.get()); }

  const memory_plan& plan() const { return plan_; }
  /// Device bytes this model holds: the plan's buffers (each padded to 256 bytes), the
  /// bias-reduction workspace and the cuBLAS workspace.
  std::size_t allocated_bytes() const {
    return arena_.capacity_bytes() + blas_.allocated_bytes() + (cudnn_ ? cudnn_->allocated_bytes() : 0);
  }
  int max_batch() const { return max_batch_; }
  int optimizer_slots() const { return optimizer_slots_; }
  int batch() const { return batch_; }
  const model_options& options() const { return options_; }
  void reseed(std::uint64_t seed) { uniform_.seed(seed); }

  // ---- sequence lifecycle -------------------------------------------------------------------

  /// Start a new sequence of `batch` samples: v = v_init, â = 0, Σ logits = 0, loss accumulator = 0,
  /// and (training) a new dropout mask.
  void reset_state(int batch, phase ph) {
    if (batch < 1 || batch > max_batch_)
      throw std::invalid_argument("spikefuse: batch of " + std::to_string(batch) + " samples, but the model was built for at most " +
                                  std::to_string(max_batch_));
    batch_ = batch;
    SF_CUDA_CHECK(cudaSetDevice(device_));  // the model's device, whichever was current in this thread
    const context ctx = make_context(scratch_counter_);
    for_each_layer([&]<std::size_t I>() {
      if constexpr (I > 0 && !is_residual_add<typename Net::template layer_at<I>>) {
        using L = typename Net::template layer_at<I>;
        layer_impl<L>::template reset<in_port<I>, out_port<I>, fusion_of<I>>(ctx, batch_, ph, buf_[I], uniform_);
      }
    });
    ctx.zero(buf_[depth].logits_sum, static_cast<long long>(batch_) * classes);
    SF_CUDA_CHECK(cudaMemsetAsync(accumulator_, 0, sizeof(loss_accumulator), stream_.get()));
  }

  /// Host buffer for x_t (batch × input_size floats, page-locked); upload_input() sends it. Two
  /// buffers alternate, so the host writes x_{t+1} while x_t is still being copied.
  float* input_staging() {
    current_staging_ ^= 1;
    staging_copied_[current_staging_].synchronize();
    return input_staging_[current_staging_].data();
  }
  void upload_input() {
    const std::size_t bytes = static_cast<std::size_t>(batch_) * Net::input_size * sizeof(float);
    SF_CUDA_CHECK(cudaMemcpyAsync(buf_[0].out, input_staging_[current_staging_].data(), bytes, cudaMemcpyHostToDevice,
                                  stream_.get()));
    staging_copied_[current_staging_].record(stream_.get());
  }

  /// Labels of the current batch (checked on the host: the loss kernel indexes with them).
  void set_labels(std::span<const std::uint8_t> labels) {
    if (static_cast<int>(labels.size()) < batch_) throw std::invalid_argument("spikefuse: fewer labels than samples");
    for (int b = 0; b < batch_; ++b) {
      if (labels[b] >= classes)
        throw std::out_of_range("spikefuse: label " + std::to_string(labels[b]) + " out of range for " +
                                std::to_string(classes) + " classes");
    }
    labels_copied_.synchronize();  // the previous batch's copy from the staging buffer is done
    for (int b = 0; b < batch_; ++b) label_staging_.data()[b] = labels[b];
    SF_CUDA_CHECK(cudaMemcpyAsync(labels_, label_staging_.data(), static_cast<std::size_t>(batch_), cudaMemcpyHostToDevice,
                                  stream_.get()));
    labels_copied_.record(stream_.get());
  }

  /// One time step: forward of every layer, the head (logits, Σ logits, and in training phases the
  /// loss and its gradient), then — when `backward` — zeroing the gradients first if
  /// `zero_grad_first` (OTTT_O) and the backward of every layer. Replays a captured graph when
  /// graphs are on (one capture per distinct batch / phase / loss setting). `input_and_parameters_unchanged`:
  /// the caller guarantees the same input and parameters as the previous step of this sequence, so
  /// the nodes that depend on nothing else and are worth keeping (Network::reuses_output) keep their outputs.
  void step(phase ph, bool backward, bool zero_grad_first, int time_steps, const loss_config& loss_cfg,
            bool input_and_parameters_unchanged = false) {
    if (backward && ph != phase::train) throw std::invalid_argument("spikefuse: a backward needs phase::train");
    const step_key key{batch_, ph, backward, zero_grad_first, time_steps, loss_cfg.mse_weight, loss_cfg.constant_mse_target,
                       loss_cfg.mse_target_value, input_and_parameters_unchanged};
    if (!options_.graphs) {
      launch_counter counter;
      enqueue_step(make_context(counter), key);
      last_step_launches_ = counter;
      last_step_graph_nodes_ = 0;
      return;
    }
    auto it = graphs_.find(key);
    if (it == graphs_.end()) {
      launch_counter counter;
      std::size_t nodes = 0;
      graph_exec g =
          graph_exec::capture(stream_.get(), [&](cudaStream_t) { enqueue_step(make_context(counter), key); }, &nodes);
      it = graphs_.emplace(key, captured_step{std::move(g), counter, nodes}).first;
    }
    it->second.graph.launch(stream_.get());
    last_step_launches_ = it->second.launches;
    last_step_graph_nodes_ = it->second.nodes;
  }

  void zero_grad() { make_context(scratch_counter_).zero(grads_, num_params_); }

  /// The optimizer update of all parameters, one kernel (coefficients from optimizer::begin_step).
  void apply_optimizer(const optimizer_step& coefficients) {
    optimizer_update(make_context(scratch_counter_), coefficients, num_params_, params_, grads_, slot(0), slot(1));
  }

  /// Waits for the stream and returns the batch's loss bookkeeping.
  loss_accumulator read_loss() {
    SF_CUDA_CHECK(cudaMemcpyAsync(accumulator_host_.data(), accumulator_, sizeof(loss_accumulator), cudaMemcpyDeviceToHost,
                                  stream_.get()));
    stream_.synchronize();
    return accumulator_host_.data()[0];
  }

  /// What the last step() enqueued (or replayed): kernels, GEMMs, memsets.
  const launch_counter& last_step_launches() const { return last_step_launches_; }
  /// Nodes of the graph the last step replayed (0 without graphs): ≥ the launches when a cuBLAS
  /// GEMM runs as more than one kernel.
  std::size_t last_step_graph_nodes() const { return last_step_graph_nodes_; }
  std::size_t captured_graphs() const { return graphs_.size(); }
  void synchronize() const { stream_.synchronize(); }
  cudaStream_t stream() const { return stream_.get(); }

  // ---- host copies (the same calls on every backend) ---------------------------------------------

  long long parameter_count() const { return num_params_; }
  void copy_parameters_to(std::span<float> out) { download(params_, num_params_, out); }
  void load_parameters(std::span<const float> in) { upload(params_, num_params_, in); }
  void copy_gradients_to(std::span<float> out) { download(grads_, num_params_, out); }
  void copy_optimizer_state_to(std::span<float> out) { download(slots_, num_params_ * optimizer_slots_, out); }
  void load_optimizer_state(std::span<const float> in) { upload(slots_, num_params_ * optimizer_slots_, in); }
  const std::vector<parameter_tensor>& tensors() const { return tensors_; }
  /// Running statistics (BatchNorm running mean and variance): not trained, saved in checkpoints.
  long long statistics_count() const { return num_statistics_; }
  void copy_statistics_to(std::span<float> out) { download(statistics_, num_statistics_, out); }
  void load_statistics(std::span<const float> in) { upload(statistics_, num_statistics_, in); }
  const std::vector<parameter_tensor>& statistic_tensors() const { return statistic_tensors_; }

  /// Copies of the current batch's buffers (tests, monitors): Σ_t logits, the last logits, and the
  /// output of a layer. A Linear whose bias the next kernel adds holds W·x without the bias. A
  /// neuron whose Scale or pooling runs in its kernel stores its spikes only with
  /// model_options::keep_fused_spikes; a Scale between a neuron and its fused pooling stores nothing.
  std::vector<float> logits_sum() { return download_vector(buf_[depth].logits_sum, static_cast<long long>(batch_) * classes); }
  std::vector<float> logits() { return download_vector(buf_[depth].out, static_cast<long long>(batch_) * classes); }
  std::vector<float> output_of(std::size_t layer) {
    if (const char* why = why_output_not_stored(layer))
      throw std::invalid_argument("spikefuse: the output of layer " + std::to_string(layer) + " is not stored: " + why);
    return download_vector(buf_.at(layer).out, static_cast<long long>(batch_) * plan_.layers.at(layer).out_shape.size());
  }
  std::vector<float> membrane_of(std::size_t layer) {
    return download_vector(buf_.at(layer).v, static_cast<long long>(batch_) * plan_.layers.at(layer).out_shape.size());
  }
  std::vector<float> trace_of(std::size_t layer) {
    return download_vector(buf_.at(layer).trace, static_cast<long long>(batch_) * plan_.layers.at(layer).out_shape.size());
  }

 private:
  template <std::size_t I>
  using in_port = typename Net::template input_port_at<I>;
  template <std::size_t I>
  using out_port = typename Net::template port_at<I>;

  template <std::size_t I>
  static constexpr bool linear_with_bias = [] {
    using L = typename Net::template layer_at<I>;
    if constexpr (is_linear<L>) {
      return L::has_bias;
    } else {
      return false;
    }
  }();
  /// Node I + 1 is a neuron and the only reader of node I.
  template <std::size_t I>
  static constexpr bool next_is_neuron = [] {
    if constexpr (I < depth) {
      return is_neuron<typename Net::template layer_at<I + 1>> && Net::template source_of<I + 1> == I && Net::consumers[I] == 1;
    } else {
      return false;
    }
  }();
  template <std::size_t I>
  static constexpr bool bias_from_input = [] {
    if constexpr (I >= 1) {
      return is_neuron<typename Net::template layer_at<I>> && next_is_neuron<Net::template source_of<I>> &&
             linear_with_bias<Net::template source_of<I>>;
    } else {
      return false;
    }
  }();
  // A Linear's bias goes to the next kernel when that is a neuron or the head (loss) kernel.
  template <std::size_t I>
  static constexpr bool bias_by_consumer = linear_with_bias<I> && (I == depth || next_is_neuron<I>);
  /// Node I is a neuron whose only reader is node I + 1, a Scale: the neuron's kernels do the Scale.
  template <std::size_t I>
  static constexpr bool scale_follows_neuron = [] {
    if constexpr (I >= 1 && I < depth) {
      return is_neuron<typename Net::template layer_at<I>> && is_scale<typename Net::template layer_at<I + 1>> &&
             Net::template source_of<I + 1> == I && Net::consumers[I] == 1;
    } else {
      return false;
    }
  }();
  template <std::size_t I>
  static constexpr float scale_factor_after = [] {
    if constexpr (scale_follows_neuron<I>) {
      return Net::template layer_at<I + 1>::factor;
    } else {
      return 1.f;
    }
  }();
  /// Node of the average pooling that neuron I's kernels compute (after its fused Scale, if any), or
  /// 0: the pooling is that node's only reader and its windows tile the plane (neuron_pool::tiling).
  template <std::size_t I>
  static constexpr std::size_t pool_node_after = [] {
    constexpr std::size_t none = 0;
    if constexpr (I >= 1 && I < depth) {
      if constexpr (is_neuron<typename Net::template layer_at<I>> && !bias_from_input<I>) {
        constexpr std::size_t J = scale_follows_neuron<I> ? I + 2 : I + 1;
        if constexpr (J <= depth) {
          using L = typename Net::template layer_at<J>;
          if constexpr (is_pool<L>) {
            if constexpr (Net::template source_of<J> == J - 1 && Net::consumers[J - 1] == 1 &&
                          neuron_pool::tiling<L, in_port<J>, out_port<J>>::fusable)
              return J;
          }
        }
      }
    }
    return none;
  }();
  template <std::size_t I>
  static constexpr auto pool_tiling_type_of() {
    if constexpr (pool_node_after<I> != 0) {
      constexpr std::size_t J = pool_node_after<I>;
      return std::type_identity<neuron_pool::tiling<typename Net::template layer_at<J>, in_port<J>, out_port<J>>>{};
    } else {
      return std::type_identity<void>{};
    }
  }
  template <std::size_t I>
  using pool_tiling_of = typename decltype(pool_tiling_type_of<I>())::type;
  /// Spike bits per sample that neuron I's kernels write: one per neuron, or, with a pooling fused,
  /// by window (neuron_pool::tiling::spike_bits_per_plane).
  template <std::size_t I>
  static constexpr long long spike_bits_per_sample = [] {
    if constexpr (pool_node_after<I> != 0) {
      return static_cast<long long>(out_port<I>::dims.c) * pool_tiling_of<I>::spike_bits_per_plane;
    } else {
      return static_cast<long long>(out_port<I>::size);
    }
  }();
  /// Node I is a fused Scale<c> after an OTTT neuron (no pooling fused after it) whose only reader is
  /// a Linear or convolution: that reader's weight gradient reads c × the neuron's trace state, so
  /// the Scale's c·â is never stored (layer_buffers::out_trace_factor).
  template <std::size_t I>
  static constexpr bool trace_read_from_neuron = [] {
    if constexpr (I >= 2 && I < depth) {
      using Reader = typename Net::template layer_at<I + 1>;
      return scale_follows_neuron<I - 1> && keeps_trace<typename Net::template layer_at<I - 1>> && pool_node_after<I - 1> == 0 &&
             Net::consumers[I] == 1 && Net::template source_of<I + 1> == I && Net::template second_source_of<I + 1> < 0 &&
             (is_linear<Reader> || is_conv<Reader>);
    } else {
      return false;
    }
  }();
  /// Node I is a Scale or a pooling that the neuron before it computes: it launches nothing.
  template <std::size_t I>
  static constexpr bool done_by_producer = [] {
    if constexpr (I >= 2) {
      return scale_follows_neuron<I - 1> || pool_node_after<I - 1> == I || pool_node_after<I - 2> == I;
    } else {
      return false;
    }
  }();
  /// The step writes node I's output buffer (output_of): not a neuron's spikes that only its fused
  /// Scale or pooling read (unless model_options::keep_fused_spikes), not a Scale inside a fused pooling.
  template <std::size_t I>
  static constexpr bool spikes_read_inside_kernel = scale_follows_neuron<I> || pool_node_after<I> != 0;
  template <std::size_t I>
  static constexpr bool skipped_between = I >= 2 && pool_node_after<(I >= 2 ? I - 1 : 0)> == I + 1;
  template <std::size_t I>
  using fusion_of = fusion<bias_from_input<I>, bias_by_consumer<I>, scale_follows_neuron<I>, scale_factor_after<I>,
                           done_by_producer<I>, pool_tiling_of<I>>;

  struct step_key {
    int batch;
    phase ph;
    bool backward, zero_grad_first;
    int time_steps;
    float mse_weight;
    bool constant_target;
    float target_value;
    bool input_and_parameters_unchanged;  // the layers that reuse their output (Network::reuses_output) are skipped
    auto tie() const {
      return std::tie(batch, ph, backward, zero_grad_first, time_steps, mse_weight, constant_target, target_value,
                      input_and_parameters_unchanged);
    }
    bool operator<(const step_key& o) const { return tie() < o.tie(); }
  };
  struct captured_step {
    graph_exec graph;
    launch_counter launches;
    std::size_t nodes;
  };

  static int checked_batch(int b) {
    if (b < 1) throw std::invalid_argument("spikefuse: batch size must be at least 1");
    return b;
  }
  static int checked_slots(int k) {
    if (k < 0 || k > 2) throw std::invalid_argument("spikefuse: optimizer_slots must be 0, 1 or 2");
    return k;
  }
  static int select_device(int device) {
    if (device_count() <= device)
      throw cuda_error("spikefuse: no CUDA device " + std::to_string(device) + " (" + no_device_reason() + ")");
    SF_CUDA_CHECK(cudaSetDevice(device));
    return device;
  }
  std::size_t input_floats() const { return static_cast<std::size_t>(max_batch_) * Net::input_size; }

  template <class F>
  static void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(
        std::make_index_sequence<depth + 1>{});
  }

  context make_context(launch_counter& counter) const {
    return context{stream_.get(), &blas_, &counter, options_.keep_fused_spikes, cudnn_.get(), reduction_,
                   chunk_floats(options_)};
  }

  /// Why the step does not write node `layer`'s output buffer, or null when it does.
  const char* why_output_not_stored(std::size_t layer) const {
    const char* why = nullptr;
    for_each_layer([&]<std::size_t I>() {
      if (I != layer) return;
      if (skipped_between<I>) {
        why = "this Scale runs inside the neuron's kernel with the pooling after it; read the pooling's output";
      } else if (spikes_read_inside_kernel<I> && !options_.keep_fused_spikes) {
        why = "the layer after it runs inside this neuron's kernel (model_options::keep_fused_spikes stores a neuron's spikes)";
      } else if (plan_.layers[plan_.storage_of(I)].out_at >= 0) {
        why = "it shares memory with later buffers (model_options::keep_outputs keeps every output)";
      }
    });
    return why;
  }

  float* slot(int k) const { return k < optimizer_slots_ ? slots_ + static_cast<long long>(k) * num_params_ : nullptr; }

  /// Every convolution's im2col chunk at this batch and budget is indexed in 32 bits: a budget too
  /// large for that is refused when the model is planned, not in its first step.
  static void check_convolution_chunks(int batch, long long chunk_floats) {
    for_each_layer([&]<std::size_t I>() {
      using L = typename Net::template layer_at<I>;
      if constexpr (is_conv<L>) {
        constexpr conv_geometry g = conv_geometry_of<L, in_port<I>, out_port<I>>();
        check_chunk_indexing<g>(batch, chunk_floats);
      }
    });
  }

  static long long chunk_floats(const model_options& options) {
    if (options.im2col_chunk_mib < 1 || options.im2col_chunk_mib > 4096)
      throw std::invalid_argument("spikefuse: model_options::im2col_chunk_mib must be 1 to 4096 (MiB), not " +
                                  std::to_string(options.im2col_chunk_mib));
    return static_cast<long long>(options.im2col_chunk_mib) << 18;  // 2^20 bytes / 4 per float
  }

  /// The most channels one channel reduction covers: a BatchNorm's, a convolution's output (its bias gradient).
  static int reduced_channels() {
    int channels = 0;
    for_each_layer([&]<std::size_t I>() {
      using L = typename Net::template layer_at<I>;
      int c = 0;
      if constexpr (is_batch_norm<L>) c = in_port<I>::dims.c;
      if constexpr (is_conv<L>) c = out_port<I>::dims.c;
      channels = c > channels ? c : channels;
    });
    return channels;
  }

  /// Carves every buffer from `a` (first a measuring arena, then the real one): the plan's buffers,
  /// plus the bias-reduction workspace of neurons fed by a biased Linear, labels and the accumulator.
  void carve(device_arena& a) {
    num_params_ = plan_.parameter_count();
    params_ = a.take<float>(num_params_);
    grads_ = a.take<float>(num_params_);
    slots_ = a.take<float>(num_params_ * optimizer_slots_);
    num_statistics_ = plan_.statistics_count();
    statistics_ = a.take<float>(num_statistics_);
    float* scratch = a.take<float>(plan_.scratch_floats());
    reduction_.channels = reduced_channels();
    reduction_.partials = a.take<double>(channel_workspace::partial_doubles(reduction_.channels));
    reduction_.totals = a.take<double>(channel_workspace::total_doubles(reduction_.channels));
    reduction_.arrivals = a.take<unsigned>(reduction_.channels);
    float* pool = a.take<float>(plan_.shared_pool);
    shared_pool_ = pool;
    for_each_layer([&]<std::size_t I>() {
      const auto& f = plan_.layers[I].floats;
      auto& b = buf_[I];
      if (plan_.layers[I].aliases_input) {
        b = buf_[Net::template source_of<I>];
        b.v = b.trace = b.mask = b.psi = b.bias_partials = nullptr;
        b.spike_bits = nullptr;
        b.grad_weight_hat = nullptr;
        b.saved = b.weight_hat = b.grad_scratch = b.statistics = b.scratch = b.grad_sum = nullptr;
        b.bias_arrivals = nullptr;
        b.weight = b.bias = b.gain = b.grad_weight = b.grad_bias = b.grad_gain = nullptr;
        b.logits_sum = a.take<float>(f.logits_sum);
        return;
      }
      const auto& row = plan_.layers[I];
      auto place = [&](long long at, long long floats) {  // the measuring pass has no pool yet
        return at >= 0 ? (pool ? pool + at : nullptr) : a.take<float>(floats);
      };
      b.out = place(row.out_at, f.out);
      b.out_trace = place(row.out_trace_at, f.out_trace);
      b.psi = place(row.psi_at, f.psi);
      b.spike_bits = reinterpret_cast<lif::spike_word*>(place(row.spike_bits_at, f.spike_bits));  // words in float slots
      b.grad_out = place(row.grad_out_at, f.grad_out);
      b.v = a.take<float>(f.v);
      b.trace = a.take<float>(f.trace);
      b.mask = a.take<float>(f.mask);
      b.logits_sum = a.take<float>(f.logits_sum);
      b.saved = a.take<float>(f.saved);
      b.weight_hat = place(row.weight_hat_at, f.weight_hat);
      b.grad_weight_hat = place(row.grad_weight_hat_at, f.grad_weight_hat);
      b.grad_scratch = place(row.grad_scratch_at, f.grad_scratch);
      b.grad_sum = nullptr;  // this layout has no Σ_t ∂out: the dW GEMM runs at every step (layout_options)
      b.scratch = f.scratch ? scratch : nullptr;
      using L = typename Net::template layer_at<I>;
      if constexpr (is_neuron<L>) {
        if constexpr (L::keeps_trace) b.out_trace = b.trace;
        // The kernels write every word of the layout they number (by element, or by pooling window).
        if (f.spike_bits > 0 && f.spike_bits < lif::spike_bit_words(plan_.batch * spike_bits_per_sample<I>))
          throw std::logic_error("spikefuse: internal: the plan's spike bits are fewer than the neuron kernel writes");
        if constexpr (bias_from_input<I>) {
          b.bias_partials = a.take<float>(bias_partial_floats(out_port<I>::size));
          b.bias_arrivals = a.take<unsigned>(bias_arrival_counters(out_port<I>::size));
        }
      }
      if constexpr (parametric_layer<L>) {
        // The measuring pass has no base pointers yet: bind only in the real one.
        auto bind = [&](const char* field, float*& value, float*& grad) {
          const long long at = tensor_offset(tensors_, I, field);
          value = (params_ && at >= 0) ? params_ + at : nullptr;
          grad = (grads_ && at >= 0) ? grads_ + at : nullptr;
        };
        bind("weight", b.weight, b.grad_weight);
        bind("bias", b.bias, b.grad_bias);
        bind("gain", b.gain, b.grad_gain);
        const long long at = tensor_offset(statistic_tensors_, I, "running_mean");
        b.statistics = (statistics_ && at >= 0) ? statistics_ + at : nullptr;
      }
    });
    // A neuron that does the Scale and/or pooling after it writes into, and reads the gradient from,
    // the buffers of the last node it computes.
    for_each_layer([&]<std::size_t I>() {
      if constexpr (scale_follows_neuron<I> || pool_node_after<I> != 0) {
        constexpr std::size_t last = pool_node_after<I> != 0 ? pool_node_after<I> : I + 1;
        buf_[I].fused_out = buf_[last].out;
        buf_[I].fused_out_trace = buf_[last].out_trace;
        buf_[I].fused_grad_out = buf_[last].grad_out;
        if constexpr (trace_read_from_neuron<I + 1>) {  // the reader takes c × the neuron's state instead
          buf_[I].fused_out_trace = nullptr;
          buf_[I + 1].out_trace = buf_[I].trace;
          buf_[I + 1].out_trace_factor = scale_factor_after<I>;
        }
      }
    });
    // The loss writes ∂L/∂y even when nothing below the head takes a gradient.
    head_grad_ = buf_[depth].grad_out ? buf_[depth].grad_out : a.take<float>(static_cast<long long>(max_batch_) * classes);
    labels_ = a.take<std::uint8_t>(max_batch_);
    accumulator_ = a.take<loss_accumulator>(1);
  }

  /// One tiny GEMM before any graph capture, so cuBLAS initialises outside capture.
  void warm_up_blas() {
    launch_counter unused;
    const float* any = buf_[depth].logits_sum;  // reads one float, writes one float of the ∂y scratch
    make_context(unused).gemm(false, true, 1, 1, 1, 0.f, any, 1, any, 1, 0.f, head_grad_, 1);
    stream_.synchronize();
  }

  void initialise() {
    std::vector<float> host(static_cast<std::size_t>(num_params_));
    spikefuse::initialise_parameters(tensors_, host.data(), uniform_);
    load_parameters(host);
    std::vector<float> statistics(static_cast<std::size_t>(num_statistics_));
    spikefuse::initialise_parameters(statistic_tensors_, statistics.data(), uniform_);
    load_statistics(statistics);
  }

  void enqueue_step(const context& ctx, const step_key& key) {
    // Zero first: the head kernel below already adds the head bias's gradient.
    if (key.backward && key.zero_grad_first) ctx.zero(grads_, num_params_);
    for_each_layer([&]<std::size_t I>() {
      if constexpr (I > 0) {
        using L = typename Net::template layer_at<I>;
        constexpr std::size_t source = Net::template source_of<I>;
        if (Net::reuses_output[I] && key.input_and_parameters_unchanged) {
          return;  // its output from the previous step is still this step's
        } else if constexpr (is_residual_add<L>) {
          constexpr std::size_t second = static_cast<std::size_t>(Net::template second_source_of<I>);
          launch_elementwise(ctx, static_cast<long long>(batch_) * out_port<I>::size,
                             add_op{buf_[source].out, buf_[second].out, buf_[I].out});
        } else {
          // Where no backward arrives, keep nothing for one.
          const phase layer_phase = (key.ph == phase::train && !Net::needs_grad[I]) ? phase::train_no_grad : key.ph;
          layer_impl<L>::template forward<in_port<I>, out_port<I>, fusion_of<I>>(ctx, batch_, layer_phase, buf_[source],
                                                                               buf_[I]);
        }
      }
    });
    enqueue_head(ctx, key);
    if (key.backward) {
      [&]<std::size_t... I>(std::index_sequence<I...>) { (backward_node<depth - I>(ctx), ...); }(std::make_index_sequence<depth>{});
    }
  }

  void enqueue_head(const context& ctx, const step_key& key) {
    auto& head = buf_[depth];
    const float* bias = bias_by_consumer<depth> ? head.bias : nullptr;
    float* grad_bias = (bias_by_consumer<depth> && key.backward) ? head.grad_bias : nullptr;
    const loss_config cfg{key.mse_weight, key.constant_target, key.target_value};
    const loss_scalars scalars = make_loss_scalars(cfg, batch_, classes, key.time_steps);
    if (is_training(key.ph)) {
      head_kernel<classes, true><<<1, head_threads, 0, ctx.stream>>>(batch_, head.out, bias, head.logits_sum, labels_,
                                                                      scalars, cfg.mse_weight, key.time_steps, head_grad_,
                                                                      grad_bias, accumulator_);
    } else {
      head_kernel<classes, false><<<1, head_threads, 0, ctx.stream>>>(batch_, head.out, bias, head.logits_sum, labels_,
                                                                       scalars, cfg.mse_weight, key.time_steps, head_grad_,
                                                                       nullptr, accumulator_);
    }
    ctx.kernel_launched();
  }

  /// ∂input of node I into node `Source`'s ∂out: written directly, or into scratch and then added
  /// when a later node reading `Source` has already written its share.
  template <std::size_t I, std::size_t Source, class Write>
  void send_gradient(const context& ctx, Write&& write) {
    if constexpr (!Net::needs_grad[Source]) {
      return;
    } else if constexpr (Net::template accumulates_into<I, static_cast<int>(Source)>) {
      device_buffers through = buf_[Source];
      through.grad_out = buf_[I].grad_scratch;
      write(through);
      launch_elementwise(ctx, static_cast<long long>(batch_) * Net::template port_at<Source>::size,
                         add_op{buf_[Source].grad_out, through.grad_out, buf_[Source].grad_out});
    } else {
      write(buf_[Source]);
    }
  }

  template <std::size_t I>
  void backward_node(const context& ctx) {
    if constexpr (Net::needs_grad[I]) {
      using L = typename Net::template layer_at<I>;
      constexpr std::size_t source = Net::template source_of<I>;
      if constexpr (is_residual_add<L>) {
        constexpr std::size_t second = static_cast<std::size_t>(Net::template second_source_of<I>);
        const long long n = static_cast<long long>(batch_) * out_port<I>::size;
        send_gradient<I, source>(ctx, [&](device_buffers& in) { ctx.copy(in.grad_out, buf_[I].grad_out, n); });
        send_gradient<I, second>(ctx, [&](device_buffers& in) { ctx.copy(in.grad_out, buf_[I].grad_out, n); });
      } else if constexpr (Net::needs_grad[source]) {
        send_gradient<I, source>(ctx, [&](device_buffers& in) {
          layer_impl<L>::template backward<in_port<I>, out_port<I>, fusion_of<I>, true>(ctx, batch_, in, buf_[I]);
        });
      } else {
        layer_impl<L>::template backward<in_port<I>, out_port<I>, fusion_of<I>, false>(ctx, batch_, buf_[source], buf_[I]);
      }
    }
  }

  void download(const float* from, long long count, std::span<float> out) {
    if (static_cast<long long>(out.size()) != count)
      throw std::invalid_argument("spikefuse: " + std::to_string(out.size()) + " values requested of " + std::to_string(count));
    if (count == 0) return;
    SF_CUDA_CHECK(cudaMemcpyAsync(out.data(), from, static_cast<std::size_t>(count) * sizeof(float), cudaMemcpyDeviceToHost,
                                  stream_.get()));
    stream_.synchronize();
  }
  void upload(float* to, long long count, std::span<const float> in) {
    if (static_cast<long long>(in.size()) != count)
      throw std::invalid_argument("spikefuse: " + std::to_string(in.size()) + " values given for " + std::to_string(count));
    if (count == 0) return;
    SF_CUDA_CHECK(cudaMemcpyAsync(to, in.data(), static_cast<std::size_t>(count) * sizeof(float), cudaMemcpyHostToDevice,
                                  stream_.get()));
    stream_.synchronize();
  }
  std::vector<float> download_vector(const float* from, long long count) {
    std::vector<float> v(static_cast<std::size_t>(count));
    if (!from) throw std::invalid_argument("spikefuse: this layer has no such buffer");
    download(from, count, v);
    return v;
  }

  memory_plan plan_;
  model_options options_;
  int max_batch_;
  int optimizer_slots_;
  int batch_ = 0;
  uniform01 uniform_;  // initialisation, then dropout masks: the CPU backend's stream
  std::vector<parameter_tensor> tensors_;
  int device_;  // selected before any other CUDA object is made
  cuda::stream stream_;
  blas_handle blas_;
  std::unique_ptr<cudnn_convolutions> cudnn_;
  device_arena arena_;
  std::array<device_buffers, depth + 1> buf_{};
  float* params_ = nullptr;
  float* grads_ = nullptr;
  float* slots_ = nullptr;
  float* statistics_ = nullptr;
  long long num_statistics_ = 0;
  std::vector<parameter_tensor> statistic_tensors_ = statistics_layout<Net>();
  float* head_grad_ = nullptr;
  float* shared_pool_ = nullptr;
  channel_workspace reduction_;
  std::uint8_t* labels_ = nullptr;
  loss_accumulator* accumulator_ = nullptr;
  long long num_params_ = 0;
  std::array<pinned_array<float>, 2> input_staging_;
  std::array<event, 2> staging_copied_;
  int current_staging_ = 0;
  pinned_array<std::uint8_t> label_staging_;
  event labels_copied_;
  pinned_array<loss_accumulator> accumulator_host_;
  std::map<step_key, captured_step> graphs_;
  launch_counter last_step_launches_;
  std::size_t last_step_graph_nodes_ = 0;
  launch_counter scratch_counter_;  // launches outside step() (reset, optimizer) are not per-step work
};

}  // namespace spikefuse::cuda
