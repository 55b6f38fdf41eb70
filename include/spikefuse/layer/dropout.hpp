// Dropout<p>: y = m ⊙ x with one mask m ∈ {0, 1/(1−p)} per sequence, applied to spikes and trace (spec §B.4);
// Dropout2d<p>: the same with one mask value per (sample, channel).
#pragma once

#include <type_traits>

#include "spikefuse/core/port.hpp"

namespace spikefuse {

/// `P` is any number (0.5, 0.5f, 0), used as a float.
template <auto P>
struct Dropout {
  static_assert(std::is_arithmetic_v<decltype(P)>, "spikefuse: Dropout's probability must be a number in [0, 1), as in Dropout<0.5>");
  static constexpr float probability = static_cast<float>(P);
  static_assert(probability >= 0.f && probability < 1.f, "spikefuse: Dropout probability must be in [0, 1)");
  static constexpr const char* name = "Dropout";
  static constexpr bool per_channel = false;
  template <class In>
  using output = In;
};

/// SpikingJelly layer.Dropout2d: whole channels are dropped, the same channels at every step of a sequence.
template <auto P>
struct Dropout2d {
  static_assert(std::is_arithmetic_v<decltype(P)>, "spikefuse: Dropout2d's probability must be a number in [0, 1), as in Dropout2d<0.5>");
  static constexpr float probability = static_cast<float>(P);
  static_assert(probability >= 0.f && probability < 1.f, "spikefuse: Dropout2d probability must be in [0, 1)");
  static constexpr const char* name = "Dropout2d";
  static constexpr bool per_channel = true;
  template <class In>
  using output = In;
};

template <class T>
inline constexpr bool is_dropout = false;
template <auto P>
inline constexpr bool is_dropout<Dropout<P>> = true;
template <auto P>
inline constexpr bool is_dropout<Dropout2d<P>> = true;

}  // namespace spikefuse
