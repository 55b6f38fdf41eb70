// Mistake: the second convolution states 3 input channels, but the first produces 16.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<3, 8, 8>, sf::Conv2d<16, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>,
                        sf::Conv2d<32, 3, sf::conv_opts{.padding = 1, .in_channels = 3}>, sf::OTTTLIF<>, sf::Flatten,
                        sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<3, 8, 8>, sf::Conv2d<16, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>,
                        sf::Conv2d<32, 3, sf::conv_opts{.padding = 1, .in_channels = 16}>, sf::OTTTLIF<>, sf::Flatten,
                        sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
