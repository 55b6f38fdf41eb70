// Mistake: an infinite threshold. (1.0 / 0.0 is not a constant expression in C++, so a user who wants
// "never fires" reaches for numeric_limits.)
//
// Registered DISABLED: math::is_finite computes inf - inf, which GCC refuses in a constant expression,
// so today the compiler prints "non-constant condition for static assertion" instead of the sentence.
#include <limits>

#include "spikefuse/dsl/network.hpp"

namespace sf = spikefuse;

#ifndef SPIKEFUSE_FIXED
constexpr double threshold = std::numeric_limits<double>::infinity();  // the mistake
#else
constexpr double threshold = 1.0;
#endif

using Net = sf::Network<sf::Input<784>, sf::Linear<100>, sf::OTTTLIF<sf::ottt_params{.v_threshold = threshold}>,
                        sf::Linear<10>>;

static_assert(Net::num_outputs == 10);
