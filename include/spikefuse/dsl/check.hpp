// Network validation: for layer i, port_{i+1} = infer(layer_i, port_i), with one static_assert sentence per mistake.
//
// Each failure happens inside `infer_layer<Index, Layer, In>`, so the compiler's
// "In instantiation of ... [with Index = 2; Layer = spikefuse::Linear<10>]" line names the layer,
// and the assertion text says what is wrong. Failing layers still return a well-formed port so
// the user sees one error, not a cascade.
#pragma once

#include <boost/hana/type.hpp>

#include <cstddef>
#include <type_traits>

#include "spikefuse/dsl/graph.hpp"
#include "spikefuse/layer/batch_norm.hpp"
#include "spikefuse/layer/conv2d.hpp"
#include "spikefuse/layer/dropout.hpp"
#include "spikefuse/layer/flatten.hpp"
#include "spikefuse/layer/input.hpp"
#include "spikefuse/layer/linear.hpp"
#include "spikefuse/layer/pooling.hpp"
#include "spikefuse/layer/residual.hpp"
#include "spikefuse/layer/scale.hpp"
#include "spikefuse/neuron/lif.hpp"

namespace spikefuse::dsl {

namespace hana = boost::hana;

template <class>
inline constexpr bool always_false = false;

/// Parameter-free layers that apply the same op to spikes and trace (spec §B.4).
template <class L>
inline constexpr bool is_pass_through = is_scale<L> || is_dropout<L> || is_pool<L> || std::is_same_v<L, Flatten>;

/// The port after node `Index` (1-based; 0 is Input), checked. `In2` is the second input of a
/// residual add (void otherwise).
template <std::size_t Index, class Layer, class In, class In2 = void>
constexpr auto infer_layer() {
  if constexpr (is_linear<Layer>) {
    static_assert(Layer::template accepts_shape<In>,
                  "spikefuse: Linear needs a flat input (C x 1 x 1); put Flatten before this layer");
    static_assert(Layer::template matches_declared<In>,
                  "spikefuse: Linear's in_features differs from the number of features the previous layer produces");
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_conv<Layer>) {
    static_assert(Layer::template matches_declared<In>,
                  "spikefuse: Conv2d's in_channels differs from the number of channels the previous layer produces");
    // A C x 1 x 1 plane that the padded kernel still covers is a valid (if small) image: only a window that
    // does not fit says "flat".
    if constexpr (In::dims.is_flat() && !Layer::template kernel_fits<In>) {
      static_assert(always_false<Layer>,
                    "spikefuse: Conv2d needs a spatial input (C x H x W), but its input is flat: Flatten comes before this layer");
    } else {
      static_assert(Layer::template kernel_fits<In>, "spikefuse: Conv2d's kernel is larger than its zero-padded input");
    }
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_batch_norm<Layer>) {
    static_assert(!In::traced,
                  "spikefuse: BatchNorm2d directly after an OTTT neuron is not supported (SpikingJelly would run it twice, on spikes and on "
                  "traces, spec B.4); put a convolution between them, or use WSConv2d and Scale as the OTTT networks do");
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_neuron<Layer>) {
    static_assert(In::kind == signal::current,
                  "spikefuse: a neuron layer must receive a current (from Input, Linear, Conv2d, BatchNorm2d or a Residual), not spikes; "
                  "put a parametric layer between two neurons");
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_pool<Layer>) {
    if constexpr (requires { Layer::template kernel_fits<In>; }) {
      if constexpr (In::dims.is_flat() && !Layer::template kernel_fits<In>) {
        static_assert(always_false<Layer>,
                      "spikefuse: pooling needs a spatial input (C x H x W), but its input is flat: Flatten comes before this layer");
      } else {
        static_assert(Layer::template kernel_fits<In>, "spikefuse: a pooling window is larger than its zero-padded input");
      }
    }
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_pass_through<Layer>) {
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_residual_add<Layer>) {
    static_assert(In::dims == In2::dims,
                  "spikefuse: a Residual block's Body produces a different shape from its Shortcut");
    static_assert(!In::traced && !In2::traced,
                  "spikefuse: a Residual block may not add OTTT spikes (its input, or the end of its Body or Shortcut, is an OTTT "
                  "neuron): the trace of the sum has no SpikingJelly counterpart");
    return hana::type_c<typename Layer::template output<In>>;
  } else if constexpr (is_input<Layer>) {
    static_assert(always_false<Layer>, "spikefuse: Input may only be the first layer of a Network");
    return hana::type_c<In>;
  } else {
    static_assert(always_false<Layer>,
                  "spikefuse: unsupported layer type; a Network accepts Input, Linear, WSLinear, Conv2d, WSConv2d, BatchNorm2d, "
                  "AvgPool2d, MaxPool2d, AdaptiveAvgPool2d, Flatten, Scale, Dropout, Dropout2d, Residual, OTTTLIF and SLTTLIF");
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

}  // namespace spikefuse::dsl
