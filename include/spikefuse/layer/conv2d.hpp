// Conv2d: z[o] = Σ_c W[o,c] ⋆ x[c] + b[o] (stride s, zero padding p), Hₒ = (H + 2p − k)/s + 1; backward dW += δ ⋆ x̂, db += Σδ, dx = Wᵀ ⋆ δ.
// WSConv2d: the same with the scaled-standardised weight Ŵ (weight_standardization.hpp), as the OTTT VGG uses.
#pragma once

#include <array>

#include "spikefuse/core/port.hpp"
#include "spikefuse/layer/parameter_spec.hpp"

namespace spikefuse {

/// Options of a convolution. `in_channels` (0 = inferred) states the expected input channels, which
/// the network checks against the previous layer.
struct conv_opts {
  int stride = 1;
  int padding = 0;
  bool bias = true;
  int in_channels = 0;
  weight_init init = weight_init::pytorch;
};

template <int OutChannels, int Kernel, conv_opts Opts, bool Standardized>
struct conv2d_spec {
  static_assert(OutChannels > 0, "spikefuse: Conv2d needs a positive number of output channels");
  static_assert(Kernel > 0, "spikefuse: Conv2d needs a positive kernel size");
  static_assert(Opts.stride > 0, "spikefuse: Conv2d needs a positive stride");
  static_assert(Opts.padding >= 0, "spikefuse: Conv2d padding cannot be negative");
  static constexpr bool parametric = true;
  static constexpr bool standardized = Standardized;
  static constexpr int out_channels = OutChannels;
  static constexpr int kernel = Kernel;
  static constexpr int stride = Opts.stride;
  static constexpr int padding = Opts.padding;
  static constexpr bool has_bias = Opts.bias;
  static constexpr int declared_in_channels = Opts.in_channels;

  template <class In>
  static constexpr auto parameter_tensors() {
    constexpr int fan_in = In::dims.c * Kernel * Kernel;
    constexpr int fan_out = OutChannels * Kernel * Kernel;
    constexpr tensor_spec weight{"weight", static_cast<long long>(fan_in) * OutChannels, OutChannels, fan_in, fan_in,
                                 fan_out, weight_rule(Opts.init)};
    constexpr tensor_spec bias{"bias", OutChannels, OutChannels, 1, fan_in, fan_out, bias_rule(Opts.init)};
    constexpr tensor_spec gain{"gain", OutChannels, OutChannels, 1, fan_in, fan_out, init_rule::ones};
    return weight_bias_gain<Opts.bias, Standardized>(weight, bias, gain);
  }

  template <class In>
  static constexpr bool matches_declared = Opts.in_channels == 0 || In::dims.c == Opts.in_channels;
  // Bad parameters are reported by the static_asserts above, alone: the shape checks pass them by,
  // and the output keeps the input's plane, so that later layers report nothing that follows from them.
  static constexpr bool valid_parameters = OutChannels > 0 && Kernel > 0 && Opts.stride > 0 && Opts.padding >= 0;
  template <class In>
  static constexpr bool kernel_fits = !valid_parameters || window_fits(In::dims, Kernel, Opts.stride, Opts.padding);
  template <class In>
  static constexpr shape output_dims = valid_parameters ? window_output(In::dims, OutChannels, Kernel, Opts.stride, Opts.padding)
                                                        : shape{OutChannels > 0 ? OutChannels : 1, In::dims.h, In::dims.w};
  template <class In>
  using output = port<output_dims<In>, signal::current>;
};

template <int OutChannels, int Kernel, conv_opts Opts = conv_opts{}>
struct Conv2d : conv2d_spec<OutChannels, Kernel, Opts, false> {
  static constexpr const char* name = "Conv2d";
  static constexpr const char* tensor_prefix = "conv";
};

/// Scaled weight standardisation (SpikingJelly layer.WSConv2d: ε = 1e-4, unbiased variance, gain initialised to 1).
template <int OutChannels, int Kernel, conv_opts Opts = conv_opts{}>
struct WSConv2d : conv2d_spec<OutChannels, Kernel, Opts, true> {
  static constexpr const char* name = "WSConv2d";
  static constexpr const char* tensor_prefix = "wsconv";
};

template <class T>
inline constexpr bool is_conv = false;
template <int O, int K, conv_opts P>
inline constexpr bool is_conv<Conv2d<O, K, P>> = true;
template <int O, int K, conv_opts P>
inline constexpr bool is_conv<WSConv2d<O, K, P>> = true;

}  // namespace spikefuse
