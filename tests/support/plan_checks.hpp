// Checks on a memory plan's shared pool: no two buffers that one kernel uses at once overlap.
// `report(ok, what)` records each check (BOOST_TEST in unit tests, expect() in the CUDA test).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "spikefuse/dsl/plan.hpp"

namespace spikefuse::testing {

inline bool memory_overlaps(long long a_at, long long a_floats, long long b_at, long long b_floats) {
  return a_at < b_at + b_floats && b_at < a_at + a_floats;
}

/// Buffers read and written by one kernel, or one written while the other is still to be read:
/// - every node: its output against its sources' outputs (forward), its ∂ against its sources' ∂
///   and its grad_scratch against both (backward); a standardised weight Ŵ against all of those,
///   and ∂Ŵ against the ∂ buffers and Ŵ;
/// - a node whose backward reads its input (weight gradient, BatchNorm, max pooling): that input
///   and its trace against the ∂ it writes and its own ∂;
/// - a neuron: ψ (or its spike bits) against its ∂, its source's ∂ and the ∂ of the last Scale/pooling after it (which
///   the CUDA kernel reads), and those layers' outputs against its input and ψ (which it writes).
template <class Report>
void check_plan_liveness(const memory_plan& p, Report&& report) {
  using buffer = std::pair<long long, long long>;  // offset (−1: not pooled), floats
  auto apart = [&](buffer a, buffer b, const std::string& what) {
    if (a.first < 0 || b.first < 0 || a.second == 0 || b.second == 0) return;
    report(!memory_overlaps(a.first, a.second, b.first, b.second), what);
  };
  auto at = [&](int node) -> const layer_plan& { return p.layers[p.storage_of(static_cast<std::size_t>(node))]; };
  auto out = [&](int n) { return buffer{at(n).out_at, at(n).floats.out}; };
  auto trace = [&](int n) { return buffer{at(n).out_trace_at, at(n).floats.out_trace}; };
  auto grad = [&](int n) { return buffer{at(n).grad_out_at, at(n).floats.grad_out}; };
  // ψ, or the spike bits it is recomputed from: a neuron has one or the other.
  auto psi = [&](int n) {
    return at(n).spike_bits_at >= 0 ? buffer{at(n).spike_bits_at, at(n).floats.spike_bits} : buffer{at(n).psi_at, at(n).floats.psi};
  };
  const int depth = static_cast<int>(p.layers.size()) - 1;
  for (int node = 1; node <= depth; ++node) {
    const auto& r = p.layers[static_cast<std::size_t>(node)];
    if (r.aliases_input) continue;
    const std::string name = "node " + std::to_string(node) + " (" + r.name + ")";
    const buffer scratch{r.grad_scratch_at, r.floats.grad_scratch};
    apart(scratch, grad(node), name + ": grad_scratch against its ∂");
    const buffer weight_hat{r.weight_hat_at, r.floats.weight_hat}, grad_weight_hat{r.grad_weight_hat_at, r.floats.grad_weight_hat};
    apart(weight_hat, out(node), name + ": Ŵ against its output");
    apart(weight_hat, grad(node), name + ": Ŵ against its ∂");
    apart(weight_hat, grad_weight_hat, name + ": Ŵ against ∂Ŵ");
    apart(grad_weight_hat, grad(node), name + ": ∂Ŵ against its ∂");
    apart(grad_weight_hat, scratch, name + ": ∂Ŵ against its grad_scratch");
    for (int from : {r.source, r.second_source}) {
      if (from < 0) continue;
      if (p.storage_of(static_cast<std::size_t>(from)) == static_cast<std::size_t>(node)) continue;
      apart(out(node), out(from), name + ": output against its input");
      apart(grad(node), grad(from), name + ": ∂ against its input's ∂");
      apart(scratch, grad(from), name + ": grad_scratch against its input's ∂");
      apart(weight_hat, out(from), name + ": Ŵ against its input");
      apart(weight_hat, grad(from), name + ": Ŵ against its input's ∂");
      apart(grad_weight_hat, grad(from), name + ": ∂Ŵ against its input's ∂");
      if (r.backward_reads_input || r.backward_reads_input_trace) {
        const buffer read = r.backward_reads_input ? out(from) : trace(from);
        apart(read, grad(from), name + ": the input its backward reads against the ∂ it writes");
        apart(read, grad(node), name + ": the input its backward reads against its ∂");
        apart(read, scratch, name + ": the input its backward reads against its grad_scratch");
        apart(read, weight_hat, name + ": the input its backward reads against Ŵ");
        apart(read, grad_weight_hat, name + ": the input its backward reads against ∂Ŵ");
      }
    }
    if (r.neuron) {
      int last = node;
      while (last < depth && p.layers[static_cast<std::size_t>(last + 1)].pass_through &&
             p.layers[static_cast<std::size_t>(last + 1)].source == last)
        ++last;
      for (int reader : {node, last}) {
        apart(psi(node), grad(reader), name + ": ψ against the ∂ its backward reads");
        apart(grad(reader), grad(r.source), name + ": the ∂ it reads against the ∂ it writes");
      }
      apart(psi(node), grad(r.source), name + ": ψ against the ∂ it writes");
      apart(psi(node), out(r.source), name + ": ψ against its input");
      for (int written : {node, last}) {
        apart(out(written), out(r.source), name + ": the output it writes against its input");
        apart(trace(written), out(r.source), name + ": the trace it writes against its input");
        apart(out(written), psi(node), name + ": the output it writes against ψ");
        apart(trace(written), psi(node), name + ": the trace it writes against ψ");
      }
    }
  }
  report(p.shared_pool >= p.most_live, "the pool holds the most floats live at once");
}

}  // namespace spikefuse::testing
