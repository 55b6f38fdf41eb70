// Dropout<p>: y = m ⊙ x with one mask m ∈ {0, 1/(1−p)} per sequence, applied to spikes and trace (spec §B.4);
// Dropout2d<p>: the same with one mask value per (sample, channel).
#pragma once

#include "spikefuse/core/port.hpp"

namespace spikefuse {

template <float P>
struct Dropout {
  static_assert(P >= 0.f && P < 1.f, "spikefuse: Dropout probability must be in [0, 1)");
  static constexpr const char* name = "Dropout";
  static constexpr float probability = P;
  static constexpr bool per_channel = false;
  template <class In>
  using output = In;
};

/// SpikingJelly layer.Dropout2d: whole channels are dropped, the same channels at every step of a sequence.
template <float P>
struct Dropout2d {
  static_assert(P >= 0.f && P < 1.f, "spikefuse: Dropout2d probability must be in [0, 1)");
  static constexpr const char* name = "Dropout2d";
  static constexpr float probability = P;
  static constexpr bool per_channel = true;
  template <class In>
  using output = In;
};

template <class T>
inline constexpr bool is_dropout = false;
template <float P>
inline constexpr bool is_dropout<Dropout<P>> = true;
template <float P>
inline constexpr bool is_dropout<Dropout2d<P>> = true;

}  // namespace spikefuse
