// Scale<c>: y = c·x, applied to spikes and trace alike (OTTT nets use c = 2.74 after each neuron).
#pragma once

#include <type_traits>

#include "spikefuse/core/math.hpp"
#include "spikefuse/core/port.hpp"

namespace spikefuse {

/// `Factor` is any number (2.74, 2.74f, 2), applied as a float.
template <auto Factor>
struct Scale {
  static_assert(std::is_arithmetic_v<decltype(Factor)>, "spikefuse: Scale's factor must be a number, as in Scale<2.74>");
  static constexpr float factor = static_cast<float>(Factor);
  static_assert(math::is_finite(factor), "spikefuse: Scale factor must be finite");
  static_assert(factor != 0.f, "spikefuse: Scale<0> would cut every signal and gradient through it");
  static constexpr const char* name = "Scale";
  template <class In>
  using output = In;
};

template <class T>
inline constexpr bool is_scale = false;
template <auto F>
inline constexpr bool is_scale<Scale<F>> = true;

}  // namespace spikefuse
