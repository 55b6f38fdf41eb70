// Mistake: a network with nothing after its Input (reported alone).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<784>>;  // the mistake
#else
using Net = sf::Network<sf::Input<784>, sf::Linear<10>>;
#endif

constexpr auto depth = Net::depth;  // uses the network
