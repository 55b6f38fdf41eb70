// SLTT pre-activation ResNet-18 for CIFAR (spec §F.3): Conv 3×3 → 4 stages × 2 PreActBlocks (64, 128/2, 256/2, 512/2) → BN → LIF → AvgPool 4 → Linear.
//
// PreActBlock: a = LIF(BN(x)); y = Conv3×3(Dropout(LIF(BN(Conv3×3_s(a))))) + shortcut(a), the
// shortcut a 1×1 convolution when the shape changes, else the identity on the spikes a. As the SLTT
// code (models/spiking_resnet.py) initialises it: conv weights Kaiming-normal (fan-out) with
// PyTorch's default conv biases, the classifier's weight PyTorch's default and its bias zero.
#pragma once

#include <type_traits>

#include "spikefuse/dsl/network.hpp"

namespace spikefuse::models {

inline constexpr conv_opts resnet_conv(int stride, int kernel_padding, bool bias = true) {
  return {.stride = stride, .padding = kernel_padding, .bias = bias, .init = weight_init::kaiming_normal_fan_out_pytorch_bias};
}

inline constexpr linear_opts resnet_classifier{.init = weight_init::pytorch_zero_bias};

/// Dropout<P>, or nothing when P = 0.
template <auto P>
using optional_dropout = std::conditional_t<(P > 0.f), Dropout<P>, Sequence<>>;

template <int InChannels, int OutChannels, int Stride, class Neuron, auto DropRate = 0.f>
using preact_block = Sequence<
    BatchNorm2d<>, Neuron,
    Residual<Body<Conv2d<OutChannels, 3, resnet_conv(Stride, 1)>, BatchNorm2d<>, Neuron, optional_dropout<DropRate>,
                  Conv2d<OutChannels, 3, resnet_conv(1, 1)>>,
             std::conditional_t<(Stride != 1 || InChannels != OutChannels),
                                Shortcut<Conv2d<OutChannels, 1, resnet_conv(Stride, 0)>>, Shortcut<>>>>;

template <int Classes = 10, int InChannels = 3, int Size = 32, class Neuron = SLTTPaperLIF, auto DropRate = 0.f>
using sltt_preact_resnet18 =
    Network<Input<InChannels, Size, Size>, Conv2d<64, 3, resnet_conv(1, 1, false)>,
            preact_block<64, 64, 1, Neuron, DropRate>, preact_block<64, 64, 1, Neuron, DropRate>,
            preact_block<64, 128, 2, Neuron, DropRate>, preact_block<128, 128, 1, Neuron, DropRate>,
            preact_block<128, 256, 2, Neuron, DropRate>, preact_block<256, 256, 1, Neuron, DropRate>,
            preact_block<256, 512, 2, Neuron, DropRate>, preact_block<512, 512, 1, Neuron, DropRate>,
            BatchNorm2d<>, Neuron, AvgPool2d<4>, Flatten, optional_dropout<DropRate>, Linear<Classes, resnet_classifier>>;

}  // namespace spikefuse::models
