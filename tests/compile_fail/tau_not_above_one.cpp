// Mistake: tau = 1 (SpikingJelly requires tau > 1: the charge divides by tau and the trace decays by 1 - 1/tau).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
constexpr double tau = 1.0;  // the mistake
#else
constexpr double tau = 1.5;
#endif

using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<sf::ottt_params{.tau = tau}>, sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
