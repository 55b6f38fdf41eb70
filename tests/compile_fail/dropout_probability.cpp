// Mistake: Dropout probability 1 (would drop everything and divide by 1 - p = 0).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
constexpr float p = 1.0f;  // the mistake
#else
constexpr float p = 0.5f;
#endif

using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<>, sf::Dropout<p>, sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
