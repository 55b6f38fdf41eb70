// Mistake: an identity shortcut carries OTTT spikes into the sum.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Neuron = sf::OTTTLIF<>;  // the mistake
#else
using Neuron = sf::SLTTLIF<>;
#endif
using Net = sf::Network<sf::Input<4, 8, 8>, Neuron, sf::Residual<sf::Body<sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>>>,
                        sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
