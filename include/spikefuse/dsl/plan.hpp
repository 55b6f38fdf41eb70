// Memory plan: bytes = parameters·(2 + optimizer slots) + statistics + state(batch) + per-step workspace(batch); no term in T.
//
// Every backend allocates exactly these buffers, once, before training; the plan is what a run
// costs whatever the number of time steps. Rows list the float counts of each buffer per layer.
// Most per-step buffers are live for a part of the step only: a convolution's output until the
// neuron after it has read it, a ∂ from the backward of the node that writes it to that of the
// node that reads it, ψ from a neuron's forward to its backward. Those share one pool by liveness
// (liveness.hpp); a chain needs two ∂ buffers in turn, not one per layer.
#pragma once

#include <boost/hana/for_each.hpp>
#include <boost/hana/range.hpp>

#include <cstddef>
#include <iomanip>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "spikefuse/dsl/describe.hpp"
#include "spikefuse/dsl/liveness.hpp"
#include "spikefuse/dsl/network.hpp"
#include "spikefuse/layer/conv_geometry.hpp"
#include "spikefuse/neuron/surrogate_record.hpp"

namespace spikefuse {

/// Float counts of the buffers one layer owns. Aliasing layers (Flatten) own nothing.
struct layer_buffers_plan {
  long long params = 0;     // weights + bias; gradients and optimizer slots are the same size
  long long v = 0;          // neuron membrane, state across steps
  long long trace = 0;      // OTTT presynaptic trace, state across steps (also the output trace)
  long long mask = 0;       // dropout mask, state across steps (one per sequence)
  long long out = 0;        // output of this step
  long long out_trace = 0;  // trace after a pass-through layer, this step
  long long psi = 0;        // surrogate derivative kept for this step's backward (a hard reset)
  long long spike_bits = 0; // or 32-bit words of this step's spikes, from which the backward recomputes ψ (soft reset)
  long long grad_out = 0;   // ∂L_t/∂(output), this step
  long long logits_sum = 0; // Σ_t logits, for the prediction (network head only)
  long long statistics = 0; // running statistics (BatchNorm): not trained, saved with the parameters
  long long saved = 0;      // per-step values kept for the backward (BatchNorm: batch mean and 1/σ per channel)
  long long weight_hat = 0;       // standardised weight Ŵ, from this step's forward to its backward (WSConv2d, WSLinear)
  long long grad_weight_hat = 0;  // its gradient ∂Ŵ, within the backward (chained into ∂W and ∂gain there)
  long long grad_scratch = 0; // ∂input of this step when it must be added to another consumer's share
  long long grad_sum = 0;   // Σ_t ∂output over a batch (a Linear that sees only a static input: one dW GEMM per batch)
  long long scratch = 0;    // im2col columns: one buffer, shared by all layers, sized by the largest
};

/// How a model lays out its buffers.
struct plan_options {
  /// Every layer keeps its output (and output trace) in a buffer of its own for the whole step, so
  /// that output_of() can read any layer after a forward (tests, monitors). Off: outputs that no
  /// backward reads share memory with later buffers, and output_of() refuses those layers.
  bool keep_outputs = false;
  /// Off: every buffer of its own, nothing shared (the layout before sharing; a reference for tests).
  bool share_buffers = true;
  /// Nodes that keep their output apart even when others share theirs, indexed by node (CUDA:
  /// a neuron whose spikes model_options::keep_fused_spikes stores for output_of).
  std::vector<bool> keep_output_of = {};
  /// Nodes whose output (and output trace) / whose ∂ the backend never writes or reads, indexed by
  /// node; the plan gives them none. The CUDA backend's neuron kernel does the Scale and pooling
  /// after it and reads their ∂ itself (cuda::model::layout_options); the CPU backend runs every node.
  std::vector<bool> untouched_outputs = {};
  std::vector<bool> untouched_gradients = {};
  /// Nodes whose output trace the backend reads from elsewhere (CUDA: a Scale<c> after an OTTT
  /// neuron, whose only reader's weight gradient reads c × the neuron's trace state): no buffer.
  std::vector<bool> untouched_traces = {};
  /// Soft-reset neurons keep their spikes, one bit each, instead of ψ, and the backward recomputes
  /// ψ from them and the membrane (lif::psi_from_state; equal to the last bit). 1/32 of ψ's memory
  /// for a surrogate evaluated in the backward instead of the forward: the CUDA backend's layout
  /// (its neuron kernels are bound by memory traffic, which this lowers); off on the CPU by default,
  /// where the extra surrogate pass costs time (OTTT Fashion-MNIST MLP: 14.2 against 11.5 ms per batch).
  bool psi_from_spike_bits = false;
  /// Spike bits per sample of a neuron, indexed by node (0 or absent: one per neuron). The CUDA
  /// backend's neuron-and-pooling kernel numbers them by pooling window, each window padded to a
  /// power of two.
  std::vector<long long> spike_bits_per_sample = {};
  /// Convolutions lower to im2col columns in a scratch buffer (both backends' default). Off: no
  /// column buffer (CUDA with model_options::convolutions = cudnn, which convolves without one).
  bool im2col_columns = true;
  /// Floats of that column buffer (columns and gathered ∂ of as many samples as fit; at least one
  /// sample's, whatever this says).
  long long im2col_chunk_floats = conv_geometry::default_chunk_floats;
  /// The backend sums ∂out over a batch for a Linear on a static input and runs its weight-gradient
  /// GEMM once (Network::defers_weight_gradient; the CPU backend). Off: no such sums (CUDA).
  bool deferred_weight_gradients = true;
};

struct layer_plan {
  std::size_t index = 0;
  std::string name;
  shape out_shape;
  bool aliases_input = false;
  layer_buffers_plan floats;
  int source = -1;          // the node it reads (-1: none, the input node)
  int second_source = -1;   // a residual add's second operand
  bool neuron = false;
  bool pass_through = false;  // Scale, Dropout, pooling: what a neuron's kernel may compute with it
  bool reuses_output = false;  // keeps its output across steps (Network::reuses_output)
  bool backward_reads_input = false;        // BatchNorm, MaxPool2d, a Linear or Conv2d on spikes or currents
  bool backward_reads_input_trace = false;  // a Linear or Conv2d on an OTTT trace (GradwithTrace)
  // Offsets in the shared pool (memory_plan::shared_pool); -1: a buffer of the layer's own.
  long long out_at = -1;
  long long out_trace_at = -1;
  long long psi_at = -1;
  long long spike_bits_at = -1;
  long long weight_hat_at = -1;
  long long grad_weight_hat_at = -1;
  long long grad_out_at = -1;
  long long grad_scratch_at = -1;

  /// Floats of the buffers that go to the shared pool.
  long long shared_floats() const {
    const auto& f = floats;
    return (out_at >= 0 ? f.out : 0) + (out_trace_at >= 0 ? f.out_trace : 0) + (psi_at >= 0 ? f.psi : 0) +
           (spike_bits_at >= 0 ? f.spike_bits : 0) + (grad_out_at >= 0 ? f.grad_out : 0) +
           (grad_scratch_at >= 0 ? f.grad_scratch : 0) + (weight_hat_at >= 0 ? f.weight_hat : 0) +
           (grad_weight_hat_at >= 0 ? f.grad_weight_hat : 0);
  }
  /// Per-step floats that are this layer's alone.
  long long own_workspace() const {
    const auto& f = floats;
    return f.out + f.out_trace + f.psi + f.spike_bits + f.saved + f.weight_hat + f.grad_weight_hat + f.grad_out +
           f.grad_scratch - shared_floats();
  }
};

struct memory_plan {
  int batch = 0;
  int time_steps = 0;
  int optimizer_slots = 0;
  std::vector<layer_plan> layers;
  long long shared_pool = 0;  // floats of the pool the per-step buffers share by liveness
  long long most_live = 0;    // the most of those floats live at one time: no placement needs less

  long long parameter_count() const {
    long long n = 0;
    for (const auto& l : layers) n += l.floats.params;
    return n;
  }
  long long statistics_count() const {
    long long n = 0;
    for (const auto& l : layers) n += l.floats.statistics;
    return n;
  }
  /// The shared im2col buffer: the largest any layer asks for.
  long long scratch_floats() const {
    long long n = 0;
    for (const auto& l : layers) n = l.floats.scratch > n ? l.floats.scratch : n;
    return n;
  }
  /// Parameters, their gradients and the optimizer's per-parameter state.
  std::size_t parameter_bytes() const {
    return sizeof(float) * (static_cast<std::size_t>(parameter_count()) * (2 + optimizer_slots) +
                            static_cast<std::size_t>(statistics_count()));
  }
  /// Carried from one step to the next within a sequence.
  std::size_t state_bytes() const {
    long long n = 0;
    for (const auto& l : layers) n += l.floats.v + l.floats.trace + l.floats.mask + l.floats.logits_sum + l.floats.grad_sum;
    return sizeof(float) * static_cast<std::size_t>(n);
  }
  /// Overwritten at every step.
  std::size_t workspace_bytes() const {
    long long n = 0;
    for (const auto& l : layers) n += l.own_workspace();
    return sizeof(float) * static_cast<std::size_t>(n + shared_pool + scratch_floats());
  }
  /// The node whose buffers node `node` uses: itself, or for Flatten (which aliases) its source's.
  std::size_t storage_of(std::size_t node) const {
    while (node > 0 && layers.at(node).aliases_input) node = static_cast<std::size_t>(layers[node].source);
    return node;
  }
  /// What the pooled buffers would take with one buffer each.
  std::size_t unshared_bytes() const {
    long long n = 0;
    for (const auto& l : layers) n += l.shared_floats();
    return sizeof(float) * static_cast<std::size_t>(n);
  }
  std::size_t total_bytes() const { return parameter_bytes() + state_bytes() + workspace_bytes(); }
};

namespace dsl {

template <class Net, std::size_t I>
layer_plan plan_layer(int batch, const plan_options& options) {
  using L = typename Net::template layer_at<I>;
  using Out = typename Net::template port_at<I>;
  const long long n = static_cast<long long>(batch) * Out::size;
  const bool needs_grad = Net::needs_grad[I];
  layer_plan row;
  row.index = I;
  row.name = describe<L>();
  row.out_shape = Out::dims;
  row.neuron = is_neuron<L>;
  row.pass_through = is_scale<L> || is_dropout<L> || is_pool<L>;
  if constexpr (I < Net::depth) row.reuses_output = Net::reuses_output[I];
  if constexpr (I > 0) {
    row.source = static_cast<int>(Net::template source_of<I>);
    row.second_source = Net::template second_source_of<I>;
    constexpr bool weight_gradient_on_trace = (is_linear<L> || is_conv<L>) && Net::template input_port_at<I>::traced;
    row.backward_reads_input = (parametric_layer<L> && !weight_gradient_on_trace) || is_max_pool<L>;
    row.backward_reads_input_trace = weight_gradient_on_trace;
  }
  auto& f = row.floats;
  if constexpr (is_input<L>) {
    f.out = n;
  } else {
    using In = typename Net::template input_port_at<I>;
    if constexpr (parametric_layer<L>) {
      f.params = Net::template layer_parameters<I>();
      f.out = n;
      f.grad_out = n;
      if constexpr (layer_with_statistics<L>) {
        for (const auto& t : L::template statistic_tensors<In>()) f.statistics += t.size;
      }
      if constexpr (is_batch_norm<L>) f.saved = 2LL * In::dims.c;
      if constexpr (is_conv<L>) f.scratch = options.im2col_columns ? conv_geometry_of<L, In, Out>().scratch_floats(batch, options.im2col_chunk_floats) : 0;
      if constexpr (is_conv<L> || is_linear<L>) {
        if constexpr (L::standardized) f.weight_hat = f.grad_weight_hat = L::template parameter_tensors<In>()[0].size;
      }
      if constexpr (Net::template defers_weight_gradient<I>) f.grad_sum = n;
    } else if constexpr (is_neuron<L>) {
      f.v = n;
      f.trace = L::keeps_trace ? n : 0;
      f.out = n;
      // ψ can be recomputed from the state after a soft reset (lif::psi_from_state): then the spikes,
      // one bit each, suffice.
      if (lif::psi_from_state_exact<L::params> && options.psi_from_spike_bits) {
        f.spike_bits = needs_grad ? lif::spike_bit_words(n) : 0;
      } else {
        f.psi = needs_grad ? n : 0;
      }
      f.grad_out = needs_grad ? n : 0;
    } else if constexpr (std::is_same_v<L, Flatten>) {
      row.aliases_input = true;
    } else if constexpr (is_residual_add<L>) {
      f.out = n;
      f.grad_out = needs_grad ? n : 0;
    } else {  // Scale, Dropout, pooling: the same op on spikes and trace
      if constexpr (is_dropout<L>) f.mask = L::per_channel ? static_cast<long long>(batch) * Out::dims.c : n;
      f.out = n;
      f.out_trace = Out::traced ? n : 0;
      f.grad_out = needs_grad ? n : 0;
    }
    if (needs_grad) {
      constexpr int source = static_cast<int>(Net::template source_of<I>);
      constexpr int second = Net::template second_source_of<I>;
      if constexpr (Net::needs_grad[source] && Net::template accumulates_into<I, source>)
        f.grad_scratch = static_cast<long long>(batch) * In::size;
      if constexpr (second >= 0) {
        if constexpr (Net::needs_grad[second] && Net::template accumulates_into<I, second>)
          f.grad_scratch = static_cast<long long>(batch) * Net::template port_at<second>::size;
      }
    }
  }
  if constexpr (I == Net::depth) f.logits_sum = n;
  return row;
}

/// Places the per-step buffers in one pool by liveness. The schedule of a step is the forward of
/// nodes 1…depth (slots 1…depth), then their backward from depth down to 1 (slots depth+1…2·depth).
/// - A ∂ lives from the backward of the node that writes it first (its consumer of highest index)
///   to its own backward; grad_scratch within its node's backward.
/// - An output (and apart from it, an output trace) lives from its forward to the last forward that
///   reads it, or to the backward of a consumer that reads it there: a Linear's or convolution's
///   weight gradient (the trace under OTTT, spikes or currents otherwise), BatchNorm, max pooling.
/// - ψ (or the spike bits it is recomputed from) lives from its neuron's forward to its backward,
///   and so does a standardised weight Ŵ from its layer's forward; ∂Ŵ within the layer's backward.
/// A Scale, Dropout or pooling after a neuron counts as done by that neuron: the CUDA backend's
/// neuron kernel writes their outputs in its forward and reads their ∂ in its backward. Kept apart:
/// the input, the head (logits, and the ∂ the loss writes), the outputs and Ŵ of the nodes that
/// reuse their output across steps (Network::reuses_output), and with keep_outputs every output
/// (keep_output_of: that node's). The input of a Linear that defers its weight gradient lives to the
/// end of the step.
inline void share_buffers_by_liveness(memory_plan& plan, const plan_options& options) {
  auto& rows = plan.layers;
  auto row = [&](int node) -> layer_plan& { return rows[static_cast<std::size_t>(node)]; };
  const int depth = static_cast<int>(rows.size()) - 1;
  auto forward_slot = [](int node) { return node; };
  auto backward_slot = [&](int node) { return 2 * depth + 1 - node; };
  auto storage = [&](int node) { return static_cast<int>(plan.storage_of(static_cast<std::size_t>(node))); };
  auto executor = [&](int node) {  // the node whose kernels run this node's forward and backward
    int at = node;
    while (row(at).pass_through && row(at).source > 0) at = storage(row(at).source);
    return row(at).neuron ? at : node;
  };
  std::vector<int> first_write(rows.size(), -1), last_read(rows.size(), -1), last_trace_read(rows.size(), -1);
  for (int consumer = 1; consumer <= depth; ++consumer) {
    if (row(consumer).aliases_input) continue;
    for (int from : {row(consumer).source, row(consumer).second_source}) {
      if (from < 0) continue;
      const auto s = static_cast<std::size_t>(storage(from));
      const int write = backward_slot(consumer);
      if (first_write[s] < 0 || write < first_write[s]) first_write[s] = write;
      const auto& c = row(consumer);
      const int in_backward = backward_slot(executor(consumer));
      last_read[s] = std::max(last_read[s], c.backward_reads_input ? in_backward : forward_slot(consumer));
      // A Linear that defers its weight gradient (grad_sum) reads its input once more after the
      // sequence's last step (cpu::model::flush_deferred_gradients): nothing may overwrite it after
      // its forward. A pooled input (input-determined but recomputed at every step) lives to the end.
      if (c.floats.grad_sum > 0) last_read[s] = 2 * depth;
      last_trace_read[s] = std::max(last_trace_read[s], c.backward_reads_input_trace ? in_backward : forward_slot(consumer));
    }
  }
  std::vector<live_buffer> buffers;
  std::vector<long long*> offsets;
  auto share = [&](long long floats, int first, int last, long long& at) {
    if (floats <= 0) return;
    buffers.push_back({floats, first, last});
    offsets.push_back(&at);
  };
  const int head = storage(depth);
  for (int node = 1; node <= depth; ++node) {
    auto& r = row(node);
    if (r.aliases_input) continue;
    const auto n = static_cast<std::size_t>(node);
    if (node != head) {
      const int written = first_write[n] < 0 ? backward_slot(node) : first_write[n];
      share(r.floats.grad_out, written, backward_slot(executor(node)), r.grad_out_at);
      const bool kept = options.keep_outputs || (n < options.keep_output_of.size() && options.keep_output_of[n]);
      if (!kept && !r.reuses_output) {
        share(r.floats.out, forward_slot(executor(node)), std::max(forward_slot(node), last_read[n]), r.out_at);
        share(r.floats.out_trace, forward_slot(executor(node)), std::max(forward_slot(node), last_trace_read[n]), r.out_trace_at);
      }
    }
    share(r.floats.grad_scratch, backward_slot(node), backward_slot(node), r.grad_scratch_at);
    share(r.floats.psi, forward_slot(node), backward_slot(node), r.psi_at);
    share(r.floats.spike_bits, forward_slot(node), backward_slot(node), r.spike_bits_at);
    // A layer that reuses its output runs its forward once per sequence: its Ŵ must outlast the step.
    if (!r.reuses_output) share(r.floats.weight_hat, forward_slot(node), backward_slot(node), r.weight_hat_at);
    share(r.floats.grad_weight_hat, backward_slot(node), backward_slot(node), r.grad_weight_hat_at);
  }
  plan.most_live = most_live_at_once(buffers);
  plan.shared_pool = place_by_liveness(buffers);
  for (std::size_t i = 0; i < buffers.size(); ++i) *offsets[i] = buffers[i].offset;
}

}  // namespace dsl

/// The memory plan of `Net` for a batch size. `time_steps` is recorded only to show that it does
/// not enter any term.
template <class Net>
memory_plan make_plan(int batch, int time_steps, int optimizer_slots, plan_options options = {});

namespace dsl {
template <class Net>
memory_plan plan_of(int batch, int time_steps, int optimizer_slots, const plan_options& options) {
  memory_plan plan;
  plan.batch = batch;
  plan.time_steps = time_steps;
  plan.optimizer_slots = optimizer_slots;
  namespace hana = boost::hana;
  hana::for_each(hana::make_range(hana::size_c<0>, hana::size_c<Net::depth + 1>), [&](auto i) {
    plan.layers.push_back(dsl::plan_layer<Net, decltype(i)::value>(batch, options));
  });
  for (std::size_t node = 1; node < plan.layers.size(); ++node) {
    auto& f = plan.layers[node].floats;
    if (node < options.untouched_outputs.size() && options.untouched_outputs[node]) f.out = f.out_trace = 0;
    if (node < options.untouched_gradients.size() && options.untouched_gradients[node]) f.grad_out = 0;
    if (node < options.untouched_traces.size() && options.untouched_traces[node]) f.out_trace = 0;
    if (!options.deferred_weight_gradients) f.grad_sum = 0;
    if (node < options.spike_bits_per_sample.size() && options.spike_bits_per_sample[node] > 0 && f.spike_bits > 0)
      f.spike_bits = lif::spike_bit_words(static_cast<long long>(batch) * options.spike_bits_per_sample[node]);
  }
  if (options.share_buffers) dsl::share_buffers_by_liveness(plan, options);
  return plan;
}
}  // namespace dsl

template <class Net>
memory_plan make_plan(int batch, int time_steps, int optimizer_slots, plan_options options) {
  static_assert(is_network<Net>, "spikefuse: make_plan expects a spikefuse::Network<...>");
  if constexpr (is_network<Net>) {  // (anything else: the sentence above, alone)
    return dsl::plan_of<Net>(batch, time_steps, optimizer_slots, options);
  } else {
    return {};
  }
}

inline std::string format_bytes(std::size_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  if (bytes >= (1u << 20)) {
    os << static_cast<double>(bytes) / (1 << 20) << " MiB";
  } else if (bytes >= (1u << 10)) {
    os << static_cast<double>(bytes) / (1 << 10) << " KiB";
  } else {
    os << bytes << " B";
  }
  return os.str();
}

/// A table of layers, output shapes, parameters and bytes, then the totals.
inline void print(std::ostream& os, const memory_plan& plan) {
  os << "spikefuse network plan (batch " << plan.batch << ", T " << plan.time_steps
     << ", optimizer slots " << plan.optimizer_slots << ")\n";
  // Columns as wide as their longest entry and two spaces (a neuron's full name can pass 64 characters).
  std::size_t name_width = 64, shape_width = 10;
  for (const auto& l : plan.layers) {
    name_width = std::max(name_width, l.name.size() + 2);
    shape_width = std::max(shape_width, dsl::describe(l.out_shape).size() + 2);
  }
  const auto name_w = static_cast<int>(name_width), shape_w = static_cast<int>(shape_width);
  os << "  #  " << std::left << std::setw(name_w) << "layer" << std::setw(shape_w) << "output" << std::right
     << std::setw(10) << "params" << std::setw(13) << "state" << std::setw(13) << "workspace" << "\n";
  for (const auto& l : plan.layers) {
    const auto& f = l.floats;
    const auto state = sizeof(float) * static_cast<std::size_t>(f.v + f.trace + f.mask + f.logits_sum + f.grad_sum);
    const auto work = sizeof(float) * static_cast<std::size_t>(l.own_workspace());
    os << "  " << std::left << std::setw(3) << l.index << std::setw(name_w) << l.name << std::setw(shape_w)
       << dsl::describe(l.out_shape) << std::right << std::setw(10) << f.params << std::setw(13)
       << format_bytes(state) << std::setw(13) << format_bytes(work) << "\n";
  }
  os << "  parameters " << plan.parameter_count() << " (" << format_bytes(plan.parameter_bytes())
     << " with gradients, optimizer state" << (plan.statistics_count() ? " and running statistics" : "") << ")\n"
     << "  state      " << format_bytes(plan.state_bytes()) << "\n"
     << "  workspace  " << format_bytes(plan.workspace_bytes()) << " per step\n";
  if (plan.shared_pool > 0)
    os << "    of which " << format_bytes(sizeof(float) * static_cast<std::size_t>(plan.shared_pool))
       << " one pool that outputs, ψ or spike bits, Ŵ and ∂ buffers share by liveness (" << format_bytes(plan.unshared_bytes())
       << " with a buffer each; " << format_bytes(sizeof(float) * static_cast<std::size_t>(plan.most_live))
       << " live at most at once)\n";
  if (plan.scratch_floats() > 0)
    os << "    of which im2col columns " << format_bytes(sizeof(float) * static_cast<std::size_t>(plan.scratch_floats()))
       << ", one buffer shared by all convolutions\n";
  os
     << "  total      " << format_bytes(plan.total_bytes()) << ", independent of T\n";
}

}  // namespace spikefuse
