// Network validation: for layer i, port_{i+1} = infer(layer_i, port_i), with one static_assert sentence per mistake.
//
// Each failure happens inside `infer_layer<Index, Layer, In>`, so the compiler's
// "In instantiation of ... [with Index = 2; Layer = spikefuse::Linear<10>]" line names the layer,
// and the assertion text says what is wrong. Failing layers still return a well-formed port so
// the user sees one error, not a cascade.
#pragma once

#include <boost/hana/type.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>

#include "spikefuse/layer/dropout.hpp"
#include "spikefuse/layer/flatten.hpp"
#include "spikefuse/layer/input.hpp"
#include "spikefuse/layer/linear.hpp"
#include "spikefuse/layer/scale.hpp"
#include "spikefuse/neuron/lif.hpp"

namespace spikefuse::dsl {

namespace hana = boost::hana;

template <class>
inline constexpr bool always_false = false;

/// Layers that apply the same elementwise or reshaping op to spikes and trace, with no parameters.
template <class L>
inline constexpr bool is_pass_through = is_scale<L> || is_dropout<L> || std::is_same_v<L, Flatten>;

/// The port after layer `Index` (1-based; 0 is Input), checked.
template <std::size_t Index, class Layer, class In>
constexpr auto infer_layer() {
  if constexpr (is_linear<Layer>) {
    static_assert(Layer::template accepts_shape<In>,
                  "spikefuse: Linear needs a flat input (C x 1 x 1); put Flatten before this layer");
    static_assert(Layer::template matches_declared<In>,
                  "spikefuse: Linear's in_features differs from the number of features the previous layer produces");
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_neuron<Layer>) {
    static_assert(In::kind == signal::current,
                  "spikefuse: a neuron layer must receive a current (from Input or Linear), not spikes; put a Linear between two neurons");
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_pass_through<Layer>) {
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_input<Layer>) {
    static_assert(always_false<Layer>, "spikefuse: Input may only be the first layer of a Network");
    return hana::type_c<In>;
  } else {
    static_assert(always_false<Layer>,
                  "spikefuse: unsupported layer type; a Network accepts Input, Linear, Flatten, Scale, Dropout, OTTTLIF and SLTTLIF");
    return hana::type_c<In>;
  }
}

/// The input port, or a stand-in when the first layer is not an Input (already reported by Network),
/// so that one mistake gives one error.
template <class First>
struct input_port_of {
  using type = port<features(1), signal::current>;
};
template <int C, int H, int W>
struct input_port_of<Input<C, H, W>> {
  using type = typename Input<C, H, W>::output;
};

/// ports = (port_0, port_1, ..., port_n), inferred left to right. A plain recursion keeps the
/// compiler's instantiation trail short: one line per layer up to the faulty one.
template <std::size_t Index, class In, class... Layers>
struct port_chain {
  using ports = std::tuple<In>;
};

template <std::size_t Index, class In, class Layer, class... Rest>
struct port_chain<Index, In, Layer, Rest...> {
  static_assert(In::size <= 2147483647, "spikefuse: a layer's input has more than 2^31 - 1 elements per sample");
  using out = typename decltype(infer_layer<Index, Layer, In>())::type;
  using ports = decltype(std::tuple_cat(std::tuple<In>{}, typename port_chain<Index + 1, out, Rest...>::ports{}));
};

}  // namespace spikefuse::dsl
