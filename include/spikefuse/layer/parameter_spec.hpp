// tensor_spec: one tensor a layer owns (trainable, or a running statistic), its shape and its initial value rule.
#pragma once

#include <array>

namespace spikefuse {

/// How a tensor's initial values are drawn. `uniform_fan_in` is PyTorch's default for nn.Linear and
/// nn.Conv2d weights and biases (bound 1/√fan_in); the others are the OTTT/SLTT reference nets' rules.
enum class init_rule { uniform_fan_in, kaiming_normal_fan_out, normal_0_01, zeros, ones };

/// The weight initialisation a Linear or a convolution asks for. `pytorch` = PyTorch's default;
/// `kaiming_normal_fan_out` = N(0, 2/fan_out) weights and zero biases (the OTTT VGG's and the SLTT
/// VGG's convolutions); `normal_0_01` = N(0, 0.01²) weights and zero biases (their classifier
/// Linear). The SLTT ResNet-18 sets the conv weights only and the Linear bias only:
/// `kaiming_normal_fan_out_pytorch_bias` (its convolutions) and `pytorch_zero_bias` (its classifier).
enum class weight_init { pytorch, kaiming_normal_fan_out, normal_0_01, kaiming_normal_fan_out_pytorch_bias, pytorch_zero_bias };

struct tensor_spec {
  const char* field = "";  // "weight", "bias", "gain", "running_mean", ...
  long long size = 0;
  int rows = 0, cols = 0;  // weight: [out, fan_in]; vectors: [n, 1]
  int fan_in = 1, fan_out = 1;
  init_rule init = init_rule::zeros;
};

constexpr init_rule weight_rule(weight_init w) {
  switch (w) {
    case weight_init::pytorch:
    case weight_init::pytorch_zero_bias: return init_rule::uniform_fan_in;
    case weight_init::kaiming_normal_fan_out:
    case weight_init::kaiming_normal_fan_out_pytorch_bias: return init_rule::kaiming_normal_fan_out;
    case weight_init::normal_0_01: return init_rule::normal_0_01;
  }
  return init_rule::zeros;
}
constexpr init_rule bias_rule(weight_init w) {
  return w == weight_init::pytorch || w == weight_init::kaiming_normal_fan_out_pytorch_bias ? init_rule::uniform_fan_in
                                                                                           : init_rule::zeros;
}

/// The tensors of a Linear or a convolution: the weight, then the bias and the WS gain when it has them.
template <bool Bias, bool Standardized>
constexpr auto weight_bias_gain(tensor_spec weight, tensor_spec bias, tensor_spec gain) {
  if constexpr (Standardized && Bias) {
    return std::array{weight, bias, gain};
  } else if constexpr (Standardized) {
    return std::array{weight, gain};
  } else if constexpr (Bias) {
    return std::array{weight, bias};
  } else {
    return std::array{weight};
  }
}

/// A layer with trainable tensors declares `parametric = true`, a name prefix for its tensors and
/// `parameter_tensors<In>()`; one with running statistics also `statistic_tensors<In>()`.
template <class L>
concept parametric_layer = requires { L::parametric; } && L::parametric;

template <class L>
concept layer_with_statistics = requires { L::has_statistics; } && L::has_statistics;

}  // namespace spikefuse
