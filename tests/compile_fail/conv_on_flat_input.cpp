// Mistake: Flatten before a convolution, which then sees a flat vector instead of an image.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Flatten, sf::Conv2d<4, 3>, sf::SLTTLIF<>, sf::Flatten,  // the mistake
                        sf::Linear<10>>;
#else
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3>, sf::SLTTLIF<>, sf::Flatten, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
