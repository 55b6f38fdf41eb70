// Linear: z = W·x + b, W of shape [out, in]; backward dW += δ·x̂ᵀ (x̂ = trace for OTTT input), db += Σδ, dx = Wᵀδ.
// WSLinear: the same with Ŵ = gain ⊙ (W − mean W) / √(var W · in + ε) per output row (spec §F.1).
#pragma once

#include <array>

#include "spikefuse/core/port.hpp"
#include "spikefuse/layer/parameter_spec.hpp"

namespace spikefuse {

/// Options of a Linear layer. `in_features` (0 = inferred) states the expected input size, which the
/// network checks against the previous layer.
struct linear_opts {
  bool bias = true;
  int in_features = 0;
  weight_init init = weight_init::pytorch;
};

inline constexpr linear_opts no_bias{.bias = false};

template <int OutFeatures, linear_opts Opts, bool Standardized>
struct linear_spec {
  static_assert(OutFeatures > 0, "spikefuse: Linear needs a positive number of output features");
  static constexpr bool parametric = true;
  static constexpr bool standardized = Standardized;
  static constexpr int out_features = OutFeatures;
  static constexpr bool has_bias = Opts.bias;
  static constexpr int declared_in_features = Opts.in_features;

  template <class In>
  static constexpr auto parameter_tensors() {
    constexpr int in = static_cast<int>(In::size);
    constexpr tensor_spec weight{"weight", static_cast<long long>(in) * OutFeatures, OutFeatures, in, in, OutFeatures,
                                 weight_rule(Opts.init)};
    constexpr tensor_spec bias{"bias", OutFeatures, OutFeatures, 1, in, OutFeatures, bias_rule(Opts.init)};
    constexpr tensor_spec gain{"gain", OutFeatures, OutFeatures, 1, in, OutFeatures, init_rule::ones};
    return weight_bias_gain<Opts.bias, Standardized>(weight, bias, gain);
  }

  /// Shape rule; the DSL checks `accepts` first and reports the reason.
  template <class In>
  static constexpr bool accepts_shape = In::dims.is_flat();
  template <class In>
  static constexpr bool matches_declared = Opts.in_features == 0 || In::size == Opts.in_features;
  template <class In>
  using output = port<features(OutFeatures), signal::current>;
};

template <int OutFeatures, linear_opts Opts = linear_opts{}>
struct Linear : linear_spec<OutFeatures, Opts, false> {
  static constexpr const char* name = "Linear";
  static constexpr const char* tensor_prefix = "linear";
};

/// Scaled weight standardisation (SpikingJelly layer.WSLinear, ε = 1e-4, gain initialised to 1).
template <int OutFeatures, linear_opts Opts = linear_opts{}>
struct WSLinear : linear_spec<OutFeatures, Opts, true> {
  static constexpr const char* name = "WSLinear";
  static constexpr const char* tensor_prefix = "wslinear";
};

template <class T>
inline constexpr bool is_linear = false;
template <int O, linear_opts P>
inline constexpr bool is_linear<Linear<O, P>> = true;
template <int O, linear_opts P>
inline constexpr bool is_linear<WSLinear<O, P>> = true;

}  // namespace spikefuse
