// Mistake: asking for the memory plan of a type that is not a spikefuse::Network (reported alone).
#include "spikefuse/dsl/plan.hpp"

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<784>, sf::Linear<10>>;

#ifndef SPIKEFUSE_FIXED
using Planned = int;  // the mistake
#else
using Planned = Net;
#endif

int total_floats() { return static_cast<int>(sf::make_plan<Planned>(16, 8, 2).total_bytes()); }
