// Memory plan: bytes = parameters·(2 + optimizer slots) + state(batch) + per-step workspace(batch); no term in T.
//
// Every backend allocates exactly these buffers, once, before training; the plan is what a run
// costs whatever the number of time steps. Rows list the float counts of each buffer per layer.
#pragma once

#include <boost/hana/for_each.hpp>
#include <boost/hana/range.hpp>

#include <cstddef>
#include <iomanip>
#include <ostream>
#include <string>
#include <vector>

#include "spikefuse/dsl/describe.hpp"
#include "spikefuse/dsl/network.hpp"

namespace spikefuse {

/// Float counts of the buffers one layer owns. Aliasing layers (Flatten) own nothing.
struct layer_buffers_plan {
  long long params = 0;     // weights + bias; gradients and optimizer slots are the same size
  long long v = 0;          // neuron membrane, state across steps
  long long trace = 0;      // OTTT presynaptic trace, state across steps (also the output trace)
  long long mask = 0;       // dropout mask, state across steps (one per sequence)
  long long out = 0;        // output of this step
  long long out_trace = 0;  // trace after a pass-through layer, this step
  long long psi = 0;        // surrogate derivative kept for this step's backward
  long long grad_out = 0;   // ∂L_t/∂(output), this step
  long long logits_sum = 0; // Σ_t logits, for the prediction (network head only)
};

struct layer_plan {
  std::size_t index = 0;
  std::string name;
  shape out_shape;
  bool aliases_input = false;
  layer_buffers_plan floats;
};

struct memory_plan {
  int batch = 0;
  int time_steps = 0;
  int optimizer_slots = 0;
  std::vector<layer_plan> layers;

  long long parameter_count() const {
    long long n = 0;
    for (const auto& l : layers) n += l.floats.params;
    return n;
  }
  /// Parameters, their gradients and the optimizer's per-parameter state.
  std::size_t parameter_bytes() const {
    return sizeof(float) * static_cast<std::size_t>(parameter_count()) * (2 + optimizer_slots);
  }
  /// Carried from one step to the next within a sequence.
  std::size_t state_bytes() const {
    long long n = 0;
    for (const auto& l : layers) n += l.floats.v + l.floats.trace + l.floats.mask + l.floats.logits_sum;
    return sizeof(float) * static_cast<std::size_t>(n);
  }
  /// Overwritten at every step.
  std::size_t workspace_bytes() const {
    long long n = 0;
    for (const auto& l : layers) n += l.floats.out + l.floats.out_trace + l.floats.psi + l.floats.grad_out;
    return sizeof(float) * static_cast<std::size_t>(n);
  }
  std::size_t total_bytes() const { return parameter_bytes() + state_bytes() + workspace_bytes(); }
};

namespace dsl {

template <class Net, std::size_t I>
layer_plan plan_layer(int batch) {
  using L = typename Net::template layer_at<I>;
  using Out = typename Net::template port_at<I>;
  const long long n = static_cast<long long>(batch) * Out::size;
  const bool needs_grad = I >= Net::first_parametric;
  layer_plan row;
  row.index = I;
  row.name = describe<L>();
  row.out_shape = Out::dims;
  auto& f = row.floats;
  if constexpr (is_input<L>) {
    f.out = n;
  } else if constexpr (is_linear<L>) {
    f.params = Net::template layer_parameters<I>();
    f.out = n;
    f.grad_out = n;
  } else if constexpr (is_neuron<L>) {
    f.v = n;
    f.trace = L::keeps_trace ? n : 0;
    f.out = n;
    f.psi = needs_grad ? n : 0;
    f.grad_out = needs_grad ? n : 0;
  } else if constexpr (is_scale<L> || is_dropout<L>) {
    f.mask = is_dropout<L> ? n : 0;
    f.out = n;
    f.out_trace = Out::traced ? n : 0;
    f.grad_out = needs_grad ? n : 0;
  } else {
    row.aliases_input = true;  // Flatten
  }
  if constexpr (I == Net::depth) f.logits_sum = n;
  return row;
}

}  // namespace dsl

/// The memory plan of `Net` for a batch size. `time_steps` is recorded only to show that it does
/// not enter any term.
template <class Net>
memory_plan make_plan(int batch, int time_steps, int optimizer_slots) {
  static_assert(is_network<Net>, "spikefuse: make_plan expects a spikefuse::Network<...>");
  memory_plan plan;
  plan.batch = batch;
  plan.time_steps = time_steps;
  plan.optimizer_slots = optimizer_slots;
  namespace hana = boost::hana;
  hana::for_each(hana::make_range(hana::size_c<0>, hana::size_c<Net::depth + 1>), [&](auto i) {
    plan.layers.push_back(dsl::plan_layer<Net, decltype(i)::value>(batch));
  });
  return plan;
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
  os << "  #  " << std::left << std::setw(58) << "layer" << std::setw(10) << "output" << std::right
     << std::setw(10) << "params" << std::setw(13) << "state" << std::setw(13) << "workspace" << "\n";
  for (const auto& l : plan.layers) {
    const auto& f = l.floats;
    const auto state = sizeof(float) * static_cast<std::size_t>(f.v + f.trace + f.mask + f.logits_sum);
    const auto work = sizeof(float) * static_cast<std::size_t>(f.out + f.out_trace + f.psi + f.grad_out);
    os << "  " << std::left << std::setw(3) << l.index << std::setw(58) << l.name << std::setw(10)
       << dsl::describe(l.out_shape) << std::right << std::setw(10) << f.params << std::setw(13)
       << format_bytes(state) << std::setw(13) << format_bytes(work) << "\n";
  }
  os << "  parameters " << plan.parameter_count() << " (" << format_bytes(plan.parameter_bytes())
     << " with gradients and optimizer state)\n"
     << "  state      " << format_bytes(plan.state_bytes()) << "\n"
     << "  workspace  " << format_bytes(plan.workspace_bytes()) << " per step\n"
     << "  total      " << format_bytes(plan.total_bytes()) << ", independent of T\n";
}

}  // namespace spikefuse
