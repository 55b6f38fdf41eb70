// Mistake: a pooling window with stride 0 (reported alone, as for Conv2d).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3>, sf::SLTTLIF<>, sf::MaxPool2d<2, 0>, sf::Flatten,  // the mistake
                        sf::Linear<10>>;
#else
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3>, sf::SLTTLIF<>, sf::MaxPool2d<2, 2>, sf::Flatten, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
