// Control: a network that uses every convolutional layer kind compiles, with the expected shapes and counts.
#include "spikefuse/dsl/network.hpp"
#include "spikefuse/models/ottt_vgg11_ws.hpp"

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
// Planes shrunk to 1x1 stay images: the OTTT VGG at 12x12 (its last convolution sees 512x1x1 and a
// padded 3x3 kernel), a padded convolution and pooling on a 1x1 input.
using SmallVgg = sf::models::ottt_vgg11_ws<10, 1, 12>;
static_assert(SmallVgg::num_outputs == 10);
using OnePixel = sf::Network<sf::Input<4, 1, 1>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::SLTTLIF<>,
                             sf::AvgPool2d<3, 1, 1>, sf::Flatten, sf::Linear<10>>;
static_assert(OnePixel::output_port::dims == sf::features(10));

static_assert(Net::parameter_count() ==
              8 * 27 + 16 + (16 * 72 + 16) + 32 + (16 * 144 + 16) + (16 * 8 + 16) + (16 * 144 + 32) + (10 * 16 + 20));
