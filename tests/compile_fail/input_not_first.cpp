// Mistake: a second Input in the middle of the list.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Input<100>, sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
