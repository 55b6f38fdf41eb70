// A small convolutional SNN for 28×28 images: 2 × [Conv 3×3 → BatchNorm → LIF → AvgPool 2] (32, 64 channels) → Linear 3136→256 → LIF → Linear; 824,554 parameters for 10 classes.
//
// Trained by examples/fashion_mnist_csnn.cpp with OTTT or SLTT (the neuron decides). Under OTTT the
// pooling acts on spikes and traces alike, each convolution after a neuron takes its weight gradient
// from the pooled trace, and BatchNorm follows a convolution, never a neuron.
#pragma once

#include "spikefuse/dsl/network.hpp"

namespace spikefuse::models {

inline constexpr conv_opts csnn_conv{.padding = 1, .bias = false};  // BatchNorm follows: a bias would be redundant

template <class Neuron, int Classes = 10, int InChannels = 1, int Size = 28>
using fashion_mnist_csnn = Network<Input<InChannels, Size, Size>,
                                   Conv2d<32, 3, csnn_conv>, BatchNorm2d<>, Neuron, AvgPool2d<2>,
                                   Conv2d<64, 3, csnn_conv>, BatchNorm2d<>, Neuron, AvgPool2d<2>,
                                   Flatten, Linear<256>, Neuron,
                                   Linear<Classes>>;

}  // namespace spikefuse::models
