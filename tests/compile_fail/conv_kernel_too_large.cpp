// Mistake: a 5×5 kernel without padding on a 4×4 feature map (after two 2×2 poolings of 16×16).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 16, 16>, sf::AvgPool2d<2>, sf::Conv2d<8, 3, sf::conv_opts{.padding = 1}>, sf::AvgPool2d<2>,
                        sf::Conv2d<16, 5>, sf::SLTTLIF<>, sf::Flatten, sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<1, 16, 16>, sf::AvgPool2d<2>, sf::Conv2d<8, 3, sf::conv_opts{.padding = 1}>, sf::AvgPool2d<2>,
                        sf::Conv2d<16, 5, sf::conv_opts{.padding = 2}>, sf::SLTTLIF<>, sf::Flatten, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
