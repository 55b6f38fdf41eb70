// Mistake: the body halves the resolution and doubles the channels, the shortcut is the identity.
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

using Body = sf::Body<sf::Conv2d<16, 3, sf::conv_opts{.stride = 2, .padding = 1}>, sf::BatchNorm2d<>, sf::SLTTLIF<>,
                      sf::Conv2d<16, 3, sf::conv_opts{.padding = 1}>>;
#ifndef SPIKEFUSE_FIXED
using Block = sf::Residual<Body>;  // the mistake
#else
using Block = sf::Residual<Body, sf::Shortcut<sf::Conv2d<16, 1, sf::conv_opts{.stride = 2}>>>;
#endif
using Net = sf::Network<sf::Input<8, 8, 8>, sf::SLTTLIF<>, Block, sf::AdaptiveAvgPool2d<1>, sf::Flatten, sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
