// Mistake: a user-defined layer type in the list; the Network only knows its own layer types.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

struct MyBatchNorm {
  template <class In>
  using output = In;
};

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, MyBatchNorm, sf::OTTTLIF<>, sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
