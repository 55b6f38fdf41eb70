// Mistake: a NaN threshold (e.g. a "not set yet" placeholder left in the declaration).
#include <limits>

#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
constexpr double threshold = std::numeric_limits<double>::quiet_NaN();  // the mistake
#else
constexpr double threshold = 1.0;
#endif

using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<sf::ottt_params{.v_threshold = threshold}>,
                        sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
