// SLTT VGG-11 with batch norm for DVS frames (spec §F.4): 8 × [Conv 3×3 → BN → LIF → Dropout] with 5 AvgPool2, AdaptiveAvgPool 7×7, Linear; 2×48×48 input by default.
#pragma once

#include "spikefuse/models/ottt_vgg11_ws.hpp"
#include "spikefuse/models/sltt_resnet18.hpp"

namespace spikefuse::models {

template <int Channels, class Neuron, auto DropRate>
using vgg_bn_block = Sequence<Conv2d<Channels, 3, vgg_conv>, BatchNorm2d<>, Neuron, optional_dropout<DropRate>>;

template <int Classes = 10, int InChannels = 2, int Size = 48, class Neuron = SLTTPaperLIF, auto DropRate = 0.f>
using sltt_vgg11_bn = Network<Input<InChannels, Size, Size>,
                              vgg_bn_block<64, Neuron, DropRate>, AvgPool2d<2>,
                              vgg_bn_block<128, Neuron, DropRate>, AvgPool2d<2>,
                              vgg_bn_block<256, Neuron, DropRate>, vgg_bn_block<256, Neuron, DropRate>, AvgPool2d<2>,
                              vgg_bn_block<512, Neuron, DropRate>, vgg_bn_block<512, Neuron, DropRate>, AvgPool2d<2>,
                              vgg_bn_block<512, Neuron, DropRate>, vgg_bn_block<512, Neuron, DropRate>, AvgPool2d<2>,
                              AdaptiveAvgPool2d<7>, Flatten, Linear<Classes, vgg_classifier>>;

}  // namespace spikefuse::models
