// Mistake: two neurons in a row; the second one receives spikes, not a current.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::SLTTLIF<>, sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Linear<100>, sf::SLTTLIF<>,
                        sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
