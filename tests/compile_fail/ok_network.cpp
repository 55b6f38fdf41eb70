// Control: a correct network that uses every layer kind. It must compile, so that a broken include
// path or a broken header cannot make every compile-failure test "pass".
#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<1, 28, 28>, sf::Flatten,
                        sf::Linear<800, sf::linear_opts{.in_features = 784}>,
                        sf::OTTTLIF<sf::ottt_params{.tau = 2.0}, sf::surrogate::ATan<>>, sf::Scale<2.74f>,
                        sf::Dropout<0.2f>, sf::Linear<100, sf::no_bias>, sf::SLTTLIF<>,
                        sf::Linear<50>, sf::SLTTPaperLIF, sf::Linear<10, sf::linear_opts{.in_features = 50}>>;

static_assert(Net::depth == 10);
static_assert(Net::num_outputs == 10);
static_assert(Net::parameter_count() == 784 * 800 + 800 + 800 * 100 + 100 * 50 + 50 + 50 * 10 + 10);
