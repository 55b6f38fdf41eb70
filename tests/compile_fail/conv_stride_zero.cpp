// Mistake: a convolution with stride 0 (reported alone: no division by zero or shape errors after it).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3, sf::conv_opts{.stride = 0}>, sf::SLTTLIF<>,  // the mistake
                        sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::SLTTLIF<>, sf::Flatten, sf::Linear<10>>;
#else
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3, sf::conv_opts{.stride = 1}>, sf::SLTTLIF<>,
                        sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::SLTTLIF<>, sf::Flatten, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
