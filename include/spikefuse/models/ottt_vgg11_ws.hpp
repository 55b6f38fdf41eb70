// OTTT VGG-11 with scaled weight standardisation (spec §F.1): 8 × [WSConv 3×3 → LIF → ×2.74] with 3 AvgPool2, global pooling, Linear; 9,228,362 parameters for 3×32×32, 10 classes.
//
// SpikingJelly `ottt_spiking_vggws` (cfg 'S') ≡ the OTTT paper's `online_spiking_vgg11_ws`. Conv
// weights Kaiming-normal (fan-out), biases 0, gains 1; the classifier N(0, 0.01²).
#pragma once

#include "spikefuse/dsl/network.hpp"

namespace spikefuse::models {

inline constexpr conv_opts vgg_conv{.stride = 1, .padding = 1, .bias = true, .init = weight_init::kaiming_normal_fan_out};
inline constexpr linear_opts vgg_classifier{.init = weight_init::normal_0_01};

template <int Channels, class Neuron>
using ottt_vgg_block = Sequence<WSConv2d<Channels, 3, vgg_conv>, Neuron, Scale<2.74f>>;

template <int Classes = 10, int InChannels = 3, int Size = 32, class Neuron = OTTTLIF<>>
using ottt_vgg11_ws = Network<Input<InChannels, Size, Size>,
                              ottt_vgg_block<64, Neuron>,
                              ottt_vgg_block<128, Neuron>, AvgPool2d<2>,
                              ottt_vgg_block<256, Neuron>,
                              ottt_vgg_block<256, Neuron>, AvgPool2d<2>,
                              ottt_vgg_block<512, Neuron>,
                              ottt_vgg_block<512, Neuron>, AvgPool2d<2>,
                              ottt_vgg_block<512, Neuron>,
                              ottt_vgg_block<512, Neuron>,
                              AdaptiveAvgPool2d<1>, Flatten, Linear<Classes, vgg_classifier>>;

}  // namespace spikefuse::models
