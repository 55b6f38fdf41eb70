// Mistake: a plain functor as the neuron's surrogate; surrogates are spikefuse::surrogate types with a
// static `derivative(float)` and a `name`.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

struct triangle {
  float operator()(float x) const { return x > -1.f && x < 1.f ? 1.f - (x < 0.f ? -x : x) : 0.f; }
};

#ifndef SPIKEFUSE_FIXED
using Neuron = sf::SLTTLIF<sf::sltt_params{}, triangle>;  // the mistake
#else
using Neuron = sf::SLTTLIF<sf::sltt_params{}, sf::surrogate::PiecewiseQuadratic<1.f>>;
#endif

using Net = sf::Network<sf::Input<784>, sf::Linear<100>, Neuron, sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
