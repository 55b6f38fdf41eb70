// Mistake: a negative surrogate sharpness, which would flip the sign of every gradient through the neuron.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::SLTTLIF<sf::sltt_params{}, sf::surrogate::Sigmoid<-4.f>>,  // the mistake
                        sf::Linear<10>>;
#else
using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::SLTTLIF<sf::sltt_params{}, sf::surrogate::Sigmoid<4.f>>,
                        sf::Linear<10>>;
#endif

static_assert(Net::num_outputs == 10);
