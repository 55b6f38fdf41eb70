// Dropout<p>: y = m ⊙ x with one mask m ∈ {0, 1/(1−p)} per sequence, applied to spikes and trace (spec §B.4).
#pragma once

#include "spikefuse/core/port.hpp"

namespace spikefuse {

template <float P>
struct Dropout {
  static_assert(P >= 0.f && P < 1.f, "spikefuse: Dropout probability must be in [0, 1)");
  static constexpr const char* name = "Dropout";
  static constexpr float probability = P;
  template <class In>
  using output = In;
};

template <class T>
inline constexpr bool is_dropout = false;
template <float P>
inline constexpr bool is_dropout<Dropout<P>> = true;

}  // namespace spikefuse
