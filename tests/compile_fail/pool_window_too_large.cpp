// Mistake: a 4×4 pooling window on a 2×2 map.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Pool = sf::AvgPool2d<4>;  // the mistake
#else
using Pool = sf::AdaptiveAvgPool2d<1>;
#endif
using Net = sf::Network<sf::Input<2, 4, 4>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::SLTTLIF<>, sf::AvgPool2d<2>, Pool,
                        sf::Flatten, sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
