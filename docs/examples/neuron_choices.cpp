// Tutorial example (docs/tutorial.md): neuron parameters are template arguments. Compiled and run by
// CTest (docs_neuron_choices); the static_asserts are the checks.
#include <spikefuse/spikefuse.hpp>

#include <cstdio>

namespace sf = spikefuse;

// [neurons]
// SpikingJelly's defaults differ per class (spec §A.7):
using OTTTDefault = sf::OTTTLIF<>;  // tau 2, no input decay, soft reset, Sigmoid(alpha 4)
using SLTTDefault = sf::SLTTLIF<>;  // tau 2, decay_input, hard reset to 0, Sigmoid(alpha 4)

// The SLTT paper's settings are one declaration away (also predefined as sf::SLTTPaperLIF):
// [sltt-paper]
using SLTTPaper = sf::SLTTLIF<sf::sltt_params{.tau = 1.1, .decay_input = false, .reset = sf::soft_reset},
                              sf::surrogate::PiecewiseQuadratic<1.f>>;
// [sltt-paper]

// Any parameter, any surrogate:
using Custom = sf::OTTTLIF<sf::ottt_params{.tau = 4.0, .v_threshold = 0.5, .reset = sf::hard_reset(-0.1)},
                           sf::surrogate::ATan<2.f>>;
// [neurons]

static_assert(std::is_same_v<SLTTPaper, sf::SLTTPaperLIF>);
static_assert(!OTTTDefault::params.decay_input && OTTTDefault::params.reset.soft);
static_assert(SLTTDefault::params.decay_input && !SLTTDefault::params.reset.soft);
static_assert(sf::lif_constants<Custom::params>::trace_decay == 0.75f);

int main() {
  // One step of the shared neuron math (the same function the CPU loops and CUDA kernels call):
  const auto r = sf::lif::step<Custom::params>(/*v=*/-0.1f, /*x=*/0.6f);
  std::printf("h = %.4f, spike = %.0f, v after reset = %.4f\n", r.h, r.spike, r.v);
  return (r.spike == 1.f && r.v == -0.1f) ? 0 : 1;
}
