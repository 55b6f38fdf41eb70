// Scale<c>: y = c·x, applied to spikes and trace alike (OTTT nets use c = 2.74 after each neuron).
#pragma once

#include "spikefuse/core/math.hpp"
#include "spikefuse/core/port.hpp"

namespace spikefuse {

template <float Factor>
struct Scale {
  static_assert(math::is_finite(Factor), "spikefuse: Scale factor must be finite");
  static_assert(Factor != 0.f, "spikefuse: Scale<0> would cut every signal and gradient through it");
  static constexpr const char* name = "Scale";
  static constexpr float factor = Factor;
  template <class In>
  using output = In;
};

template <class T>
inline constexpr bool is_scale = false;
template <float F>
inline constexpr bool is_scale<Scale<F>> = true;

}  // namespace spikefuse
