// Mistake: a hard reset to a potential at the threshold (the neuron would fire on every step after its first spike).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
constexpr double v_reset = 1.0;  // the mistake
#else
constexpr double v_reset = -0.5;
#endif

using Net = sf::Network<sf::Input<784>, sf::Linear<100>,
                        sf::SLTTLIF<sf::sltt_params{.v_threshold = 1.0, .reset = sf::hard_reset(v_reset)}>,
                        sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
