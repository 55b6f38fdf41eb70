// Mistake: the network ends with a neuron, so its output is spikes rather than logits.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Linear<10>, sf::OTTTLIF<>>;  // the mistake
#else
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
