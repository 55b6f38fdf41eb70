// Network<Input<...>, Layers...>: a compile-time layer list; ports[i+1] = infer(layer i, ports[i]), checked.
//
// Host only (Boost.Hana). Backends receive the plain pack `Layers...` and the port of every layer
// through `layer_at` / `port_at`; nothing of Hana reaches device code.
#pragma once

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <cstddef>
#include <tuple>
#include <utility>

#include "spikefuse/dsl/check.hpp"

namespace spikefuse {

template <class First, class... Layers>
struct Network {
  static_assert(is_input<First>, "spikefuse: a Network must start with Input<C, H, W>");
  static_assert(sizeof...(Layers) > 0, "spikefuse: a Network needs at least one layer after Input");

  /// Layer 0 is the Input; layers 1..depth are `Layers...`.
  static constexpr std::size_t depth = sizeof...(Layers);
  static constexpr auto layer_types = boost::hana::tuple_t<First, Layers...>;

 private:
  using ports_tuple = typename dsl::port_chain<1, typename dsl::input_port_of<First>::type, Layers...>::ports;

 public:
  template <std::size_t I>
  using layer_at = typename decltype(+boost::hana::at_c<I>(layer_types))::type;
  /// Port flowing out of layer I (port_at<0> is the input).
  template <std::size_t I>
  using port_at = std::tuple_element_t<I, ports_tuple>;

  using input_port = port_at<0>;
  using output_port = port_at<depth>;
  static constexpr shape input_shape = input_port::dims;
  static constexpr int input_size = static_cast<int>(input_port::size);
  static constexpr int num_outputs = static_cast<int>(output_port::size);

  static_assert(output_port::kind == signal::current && output_port::dims.is_flat(),
                "spikefuse: the network must end with a layer that produces flat logits (a Linear after the last neuron)");
  static_assert((is_linear<Layers> || ...), "spikefuse: a Network needs at least one Linear layer to train");

  /// Index of the first parametric layer: gradients are needed from there on.
  static constexpr std::size_t first_parametric = [] {
    constexpr bool flags[] = {false, is_linear<Layers>...};
    for (std::size_t i = 1; i <= depth; ++i)
      if (flags[i]) return i;
    return depth + 1;
  }();

  /// True when any neuron keeps an OTTT trace (then training updates traces).
  static constexpr bool has_trace = (keeps_trace<Layers> || ...);

  static constexpr long long parameter_count() {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (0LL + ... + layer_parameters<I + 1>());
    }(std::make_index_sequence<depth>{});
  }

  template <std::size_t I>
  static constexpr long long layer_parameters() {
    using L = layer_at<I>;
    if constexpr (is_linear<L>) {
      return L::template parameter_count<port_at<I - 1>>();
    } else {
      return 0;
    }
  }
};

template <class T>
inline constexpr bool is_network = false;
template <class... L>
inline constexpr bool is_network<Network<L...>> = true;

}  // namespace spikefuse
