// Mistake: no parametric layer at all, so there is nothing to train.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 28, 28>, sf::Flatten, sf::Scale<0.5f>>;  // the mistake
#else
using Net = sf::Network<sf::Input<1, 28, 28>, sf::Flatten, sf::Scale<0.5f>, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10 || Net::num_outputs == 784);
