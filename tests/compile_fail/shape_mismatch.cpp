// Mistake: the last Linear declares in_features = 64, but the layer before it produces 800 features.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
constexpr int declared_in = 64;  // the mistake
#else
constexpr int declared_in = 800;
#endif

using Net = sf::Network<sf::Input<1, 28, 28>, sf::Flatten, sf::Linear<800>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                        sf::Linear<10, sf::linear_opts{.in_features = declared_in}>>;

static_assert(Net::num_outputs == 10);
