// Linear: z = W·x + b, W of shape [out, in]; backward dW += δ·x̂ᵀ (x̂ = trace for OTTT input), db += Σδ, dx = Wᵀδ.
#pragma once

#include "spikefuse/core/port.hpp"

namespace spikefuse {

/// Options of a Linear layer. `in_features` (0 = inferred) states the expected input size, which the
/// network checks against the previous layer.
struct linear_opts {
  bool bias = true;
  int in_features = 0;
};

inline constexpr linear_opts no_bias{.bias = false};

template <int OutFeatures, linear_opts Opts = linear_opts{}>
struct Linear {
  static_assert(OutFeatures > 0, "spikefuse: Linear needs a positive number of output features");
  static constexpr const char* name = "Linear";
  static constexpr int out_features = OutFeatures;
  static constexpr bool has_bias = Opts.bias;
  static constexpr int declared_in_features = Opts.in_features;

  template <class In>
  static constexpr long long parameter_count() {
    return In::size * OutFeatures + (Opts.bias ? OutFeatures : 0);
  }

  /// Shape rule; the DSL checks `accepts` first and reports the reason.
  template <class In>
  static constexpr bool accepts_shape = In::dims.is_flat();
  template <class In>
  static constexpr bool matches_declared = Opts.in_features == 0 || In::size == Opts.in_features;
  template <class In>
  using output = port<features(OutFeatures), signal::current>;
};

template <class T>
inline constexpr bool is_linear = false;
template <int O, linear_opts P>
inline constexpr bool is_linear<Linear<O, P>> = true;

}  // namespace spikefuse
