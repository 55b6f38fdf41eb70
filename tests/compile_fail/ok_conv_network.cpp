// Control: a network that uses every convolutional layer kind compiles, with the expected shapes and counts.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

using Net = sf::Network<
    sf::Input<3, 16, 16>, sf::Conv2d<8, 3, sf::conv_opts{.padding = 1, .bias = false}>, sf::BatchNorm2d<>, sf::SLTTLIF<>,
    sf::Residual<sf::Body<sf::Conv2d<16, 3, sf::conv_opts{.stride = 2, .padding = 1}>, sf::BatchNorm2d<>, sf::SLTTLIF<>,
                          sf::Dropout2d<0.1f>, sf::Conv2d<16, 3, sf::conv_opts{.padding = 1}>>,
                 sf::Shortcut<sf::Conv2d<16, 1, sf::conv_opts{.stride = 2}>>>,
    sf::Sequence<sf::WSConv2d<16, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>, sf::Scale<2.74f>>, sf::MaxPool2d<2>,
    sf::AvgPool2d<3, 1, 1>, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Dropout<0.2f>, sf::WSLinear<10>>;

static_assert(Net::port_at<8>::dims == sf::shape{16, 8, 8});  // the residual add
static_assert(Net::output_port::dims == sf::features(10));
static_assert(Net::parameter_count() ==
              8 * 27 + 16 + (16 * 72 + 16) + 32 + (16 * 144 + 16) + (16 * 8 + 16) + (16 * 144 + 32) + (10 * 16 + 20));
