// Mistake: BatchNorm2d right after an OTTT neuron (SpikingJelly would normalise spikes and traces separately).
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>, sf::BatchNorm2d<>,
                        sf::Flatten, sf::Linear<10>>;  // the mistake
#else
using Net = sf::Network<sf::Input<1, 8, 8>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::BatchNorm2d<>, sf::OTTTLIF<>,
                        sf::Flatten, sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
