// Network<Input<...>, Layers...>: a compile-time layer list expanded into nodes 1..n; port_i = infer(layer_i, port_source(i)), checked.
//
// Host only (Boost.Hana). Backends receive plain node types and the port of every node through
// `layer_at` / `port_at` / `source_of`; nothing of Hana reaches device code. A network without
// Residual blocks is a chain: node i reads node i − 1.
#pragma once

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "spikefuse/dsl/check.hpp"

namespace spikefuse {

namespace dsl {
/// Per-node facts as arrays indexed by node, read from a tuple of dsl::node types.
template <class Nodes, class Indices = std::make_index_sequence<std::tuple_size_v<Nodes>>>
struct node_table;
template <class Nodes, std::size_t... I>
struct node_table<Nodes, std::index_sequence<I...>> {
  static constexpr std::array<int, sizeof...(I)> sources{std::tuple_element_t<I, Nodes>::source...};
  static constexpr std::array<int, sizeof...(I)> second_sources{std::tuple_element_t<I, Nodes>::second_source...};
  static constexpr std::array<bool, sizeof...(I)> parametric{parametric_layer<typename std::tuple_element_t<I, Nodes>::layer>...};
  static constexpr std::array<bool, sizeof...(I)> traced{keeps_trace<typename std::tuple_element_t<I, Nodes>::layer>...};
  static constexpr std::array<bool, sizeof...(I)> aliasing{std::is_same_v<typename std::tuple_element_t<I, Nodes>::layer, Flatten>...};
  /// The layer's output is a function of its input and its parameters alone: no state, no running
  /// statistics, no random mask.
  static constexpr std::array<bool, sizeof...(I)> stateless_function{
      (is_linear<typename std::tuple_element_t<I, Nodes>::layer> || is_conv<typename std::tuple_element_t<I, Nodes>::layer> ||
       is_pool<typename std::tuple_element_t<I, Nodes>::layer> || is_scale<typename std::tuple_element_t<I, Nodes>::layer> ||
       std::is_same_v<typename std::tuple_element_t<I, Nodes>::layer, Flatten>)...};
  static constexpr bool any_linear = (is_linear<typename std::tuple_element_t<I, Nodes>::layer> || ...);
};
}  // namespace dsl

template <class First, class... Layers>
struct Network {
  static_assert(is_input<First>, "spikefuse: a Network must start with Input<C, H, W>");
  static_assert(sizeof...(Layers) > 0, "spikefuse: a Network needs at least one layer after Input");

  /// The declared layers, Residual blocks unexpanded (signatures, descriptions).
  static constexpr auto layer_types = boost::hana::tuple_t<First, Layers...>;

 private:
  using expansion = dsl::expand<1, 0, Layers...>;
  template <class List>
  struct as_tuple;
  template <class... N>
  struct as_tuple<dsl::node_list<N...>> {
    using type = std::tuple<dsl::node<First, -1>, N...>;
  };
  using nodes = typename as_tuple<typename expansion::type>::type;
  // port_i = infer(layer_i, port_source(i)), one class per node, so the compiler computes each port
  // once. (A recursion that carried the known ports and the remaining nodes as growing packs made
  // nvcc's front end take time exponential in the depth: 71 s for a 22-layer chain, 2 s this way.)
  // A mistake stops inside infer_layer<i, Layer, ...>, whose instantiation line names the layer.
  template <std::size_t I>
  struct port_of_node {
    using node = std::tuple_element_t<I, nodes>;
    using in = typename port_of_node<static_cast<std::size_t>(node::source)>::type;
    static_assert(in::size <= 2147483647, "spikefuse: a layer's input has more than 2^31 - 1 elements per sample");
    template <int S>
    struct second {
      using type = typename port_of_node<static_cast<std::size_t>(S)>::type;
    };
    template <int S>
      requires(S < 0)
    struct second<S> {
      using type = void;
    };
    using type = typename decltype(dsl::infer_layer<I, typename node::layer, in, typename second<node::second_source>::type>())::type;
  };
  template <std::size_t I>
    requires(I == 0)
  struct port_of_node<I> {
    using type = typename dsl::input_port_of<First>::type;
  };
  template <class Indices>
  struct port_table;
  template <std::size_t... I>
  struct port_table<std::index_sequence<I...>> {
    using type = std::tuple<typename port_of_node<I>::type...>;
  };
  using ports_tuple = typename port_table<std::make_index_sequence<std::tuple_size_v<nodes>>>::type;

 public:
  /// Nodes 1..depth follow the Input (node 0).
  static constexpr std::size_t depth = std::tuple_size_v<nodes> - 1;
  static_assert(expansion::last == static_cast<int>(depth), "spikefuse: internal error: the last node is not the output");

  template <std::size_t I>
  using node_at = std::tuple_element_t<I, nodes>;
  template <std::size_t I>
  using layer_at = typename node_at<I>::layer;
  /// Port flowing out of node I (port_at<0> is the input).
  template <std::size_t I>
  using port_at = std::tuple_element_t<I, ports_tuple>;
  /// The node whose output node I reads (I − 1 in a chain); a residual add also reads second_source_of.
  template <std::size_t I>
  static constexpr std::size_t source_of = static_cast<std::size_t>(node_at<I>::source);
  template <std::size_t I>
  static constexpr int second_source_of = node_at<I>::second_source;
  template <std::size_t I>
  using input_port_at = port_at<source_of<I>>;

  using input_port = port_at<0>;
  using output_port = port_at<depth>;
  static constexpr shape input_shape = input_port::dims;
  static constexpr int input_size = static_cast<int>(input_port::size);
  static constexpr int num_outputs = static_cast<int>(output_port::size);

  static_assert(output_port::kind == signal::current && output_port::dims.is_flat(),
                "spikefuse: the network must end with a layer that produces flat logits (a Linear after the last neuron)");
  static_assert(sizeof...(Layers) == 0 || dsl::node_table<nodes>::any_linear,  // (no layers: reported above, alone)
                "spikefuse: a Network needs at least one Linear layer to train");

 public:
  /// sources[i], second_sources[i]: the nodes node i reads (−1: none).
  static constexpr auto sources = dsl::node_table<nodes>::sources;
  static constexpr auto second_sources = dsl::node_table<nodes>::second_sources;
  /// parametric[i]: node i has trainable tensors.
  static constexpr auto parametric = dsl::node_table<nodes>::parametric;

  static constexpr bool is_chain = [] {
    for (std::size_t i = 1; i <= depth; ++i)
      if (sources[i] != static_cast<int>(i) - 1 || second_sources[i] >= 0) return false;
    return true;
  }();

  /// needs_grad[i]: some parametric node lies at or below node i, so ∂L/∂(output of i) is needed.
  static constexpr auto needs_grad = [] {
    std::array<bool, depth + 1> needs{};
    for (std::size_t i = 1; i <= depth; ++i)
      needs[i] = parametric[i] || needs[static_cast<std::size_t>(sources[i])] ||
                 (second_sources[i] >= 0 && needs[static_cast<std::size_t>(second_sources[i])]);
    return needs;
  }();

  /// consumers[i]: how many nodes read node i's output.
  static constexpr auto consumers = [] {
    std::array<int, depth + 1> n{};
    for (std::size_t i = 1; i <= depth; ++i) {
      ++n[static_cast<std::size_t>(sources[i])];
      if (second_sources[i] >= 0) ++n[static_cast<std::size_t>(second_sources[i])];
    }
    return n;
  }();

  // Two shapes of graph the backends do not support: an aliasing node (Flatten) shares its source's
  // gradient buffer, so that source may have no other reader; and a residual add must read two nodes.
  static_assert([] {
    for (std::size_t i = 1; i <= depth; ++i)
      if (dsl::node_table<nodes>::aliasing[i] && consumers[static_cast<std::size_t>(sources[i])] != 1) return false;
    return true;
  }(), "spikefuse: Flatten must be the only reader of its input; here the input also feeds a Residual branch (put Flatten after the block)");
  static_assert([] {
    for (std::size_t i = 1; i <= depth; ++i)
      if (second_sources[i] >= 0 && second_sources[i] == sources[i]) return false;
    return true;
  }(), "spikefuse: a Residual block's Body is empty (only empty Sequences): it would add its input to itself");

  /// True when node I's gradient into `source` must be ADDED: a later node also reads that output,
  /// and the backward pass (last node first) has already written its share.
  template <std::size_t I, int Source>
  static constexpr bool accumulates_into = [] {
    for (std::size_t j = I + 1; j <= depth; ++j)
      if (sources[j] == Source || second_sources[j] == Source) return true;
    return false;
  }();

  /// Multiply-adds per output value of node I's forward: in_features for a Linear, C_in·k² for a
  /// convolution, 0 for the layers that only move, scale or pool values.
  template <std::size_t I>
  static constexpr long long multiply_adds_per_output() {
    if constexpr (I == 0) {
      return 0;
    } else if constexpr (is_linear<layer_at<I>>) {
      return static_cast<long long>(input_port_at<I>::size);
    } else if constexpr (is_conv<layer_at<I>>) {
      return static_cast<long long>(input_port_at<I>::dims.c) * layer_at<I>::kernel * layer_at<I>::kernel;
    } else {
      return 0;
    }
  }

  /// input_determined[i] (i < depth): node i's output depends only on the network input and the
  /// parameters, so while both stay the same (a direct-encoded image within one update) it is the
  /// same at every step (reuses_output says which of these outputs the backends keep rather than
  /// recompute). The head (node depth) is always computed: its kernel may add a bias in place.
  static constexpr auto input_determined = [] {
    std::array<bool, depth + 1> determined{};  // node 0, the input itself, is never computed
    for (std::size_t i = 1; i < depth; ++i)
      determined[i] = dsl::node_table<nodes>::stateless_function[i] && second_sources[i] < 0 &&
                      (sources[i] == 0 || determined[static_cast<std::size_t>(sources[i])]);
    return determined;
  }();

  /// Multiply-adds per output value from which an input-determined layer's output is kept (below).
  static constexpr long long reuse_min_multiply_adds = 64;

  /// reuses_output[i]: node i is input_determined and its output is worth keeping for the whole
  /// sequence, so the backends skip its forward while the input and parameters stay the same. Worth
  /// keeping are a Linear or a convolution with at least reuse_min_multiply_adds multiply-adds per
  /// output value (in_features; C_in·k²). Below that, recomputing costs about as much as reading
  /// the kept output back (an H100 or H200 does about 15 fp32 FLOP per byte it moves), and the kept
  /// output holds memory all along: OTTT VGG-11-WS's first convolution (C_in·k² = 27) kept 32 MiB at
  /// batch 128. Pooling, Scale and Flatten are recomputed from what they read.
  static constexpr auto reuses_output = [] {
    std::array<bool, depth + 1> reuses{};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((reuses[I] = input_determined[I] && multiply_adds_per_output<I>() >= reuse_min_multiply_adds), ...);
    }(std::make_index_sequence<depth + 1>{});
    return reuses;
  }();

  /// defers_weight_gradient<I>: node I is a Linear (not standardised) whose input is the network
  /// input or a function of it alone. With a static input and one update per batch its weight
  /// gradient Σ_t δ_tᵀ·x equals (Σ_t δ_t)ᵀ·x, so the CPU backend sums ∂out over the steps and runs
  /// the GEMM once per batch (cpu::model::backward), where the plan gives it that sum (grad_sum).
  template <std::size_t I>
  static constexpr bool defers_weight_gradient = [] {
    if constexpr (I == 0) {
      return false;
    } else if constexpr (is_linear<layer_at<I>>) {
      constexpr std::size_t source = source_of<I>;
      return !layer_at<I>::standardized && second_source_of<I> < 0 && (source == 0 || input_determined[source]);
    } else {
      return false;
    }
  }();

  /// Index of the first parametric node (chains: gradients are needed from there on).
  static constexpr std::size_t first_parametric = [] {
    for (std::size_t i = 1; i <= depth; ++i)
      if (parametric[i]) return i;
    return depth + 1;
  }();

  /// True when any neuron keeps an OTTT trace (then training updates traces).
  static constexpr bool has_trace = [] {
    for (bool b : dsl::node_table<nodes>::traced)
      if (b) return true;
    return false;
  }();

  template <std::size_t I>
  static constexpr long long layer_parameters() {
    using L = layer_at<I>;
    if constexpr (parametric_layer<L>) {
      long long n = 0;
      for (const auto& t : L::template parameter_tensors<input_port_at<I>>()) n += t.size;
      return n;
    } else {
      return 0;
    }
  }

  static constexpr long long parameter_count() {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (0LL + ... + layer_parameters<I + 1>());
    }(std::make_index_sequence<depth>{});
  }
};

template <class T>
inline constexpr bool is_network = false;
template <class... L>
inline constexpr bool is_network<Network<L...>> = true;

}  // namespace spikefuse
