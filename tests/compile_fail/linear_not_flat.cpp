// Mistake: a Linear directly after a 1x28x28 Input, without Flatten.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 28, 28>, sf::Linear<800>, sf::OTTTLIF<>, sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<1, 28, 28>, sf::Flatten, sf::Linear<800>, sf::OTTTLIF<>, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
