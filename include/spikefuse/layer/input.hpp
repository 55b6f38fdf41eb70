// Input<C, H, W>: the network's entry; x_t = encode(sample, t) of C·H·W values.
#pragma once

#include "spikefuse/core/port.hpp"

namespace spikefuse {

template <int C, int H = 1, int W = 1>
struct Input {
  static_assert(C > 0 && H > 0 && W > 0, "spikefuse: Input dimensions must be positive");
  static constexpr const char* name = "Input";
  static constexpr shape dims{C, H, W};
  using output = port<dims, signal::current>;
};

template <class T>
inline constexpr bool is_input = false;
template <int C, int H, int W>
inline constexpr bool is_input<Input<C, H, W>> = true;

}  // namespace spikefuse
