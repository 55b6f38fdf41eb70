// Mistake: Flatten reads the block's input, which the shortcut reads too (Flatten aliases its input's buffers).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<4, 2, 2>, sf::Conv2d<4, 1>, sf::SLTTLIF<>,
                        sf::Residual<sf::Body<sf::Flatten, sf::Linear<16>>, sf::Shortcut<sf::Flatten>>,  // the mistake
                        sf::Linear<10>>;
#else
using Net = sf::Network<sf::Input<4, 2, 2>, sf::Conv2d<4, 1>, sf::SLTTLIF<>, sf::Flatten,
                        sf::Residual<sf::Body<sf::Linear<16>>>, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
