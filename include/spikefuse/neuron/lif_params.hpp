// LIF parameters: τ (tau), θ (v_threshold), reset rule (hard to V_r, or soft: v − θ·s), decay_input.
//
// The defaults of the two parameter structs are SpikingJelly's class defaults (spec §A.7), which
// differ: OTTTLIFNode is (τ 2, decay_input false, soft reset), SLTTLIFNode is (τ 2, decay_input true,
// hard reset to 0). Values are doubles so that the folded constants (1/τ, 1 − 1/τ) are computed in
// double and rounded once, exactly as a Python float scalar is in SpikingJelly.
#pragma once

namespace spikefuse {

/// How the membrane is reset after a spike. `soft_reset`: v = h − θ·s (SpikingJelly v_reset=None);
/// `hard_reset(V_r)`: v = s·V_r + (1 − s)·h.
struct reset_rule {
  bool soft = true;
  double v_reset = 0.0;  // target of a hard reset and, for a hard reset, what the charge leaks toward
};

inline constexpr reset_rule soft_reset{true, 0.0};
constexpr reset_rule hard_reset(double v_reset = 0.0) { return reset_rule{false, v_reset}; }

/// Parameters of an OTTT neuron; defaults = SpikingJelly `OTTTLIFNode()`.
struct ottt_params {
  double tau = 2.0;
  bool decay_input = false;
  double v_threshold = 1.0;
  reset_rule reset = soft_reset;
};

/// Parameters of an SLTT neuron; defaults = SpikingJelly `SLTTLIFNode()` (not the SLTT paper's code,
/// which is `sltt_params{.tau = 1.1, .decay_input = false, .reset = soft_reset}`).
struct sltt_params {
  double tau = 2.0;
  bool decay_input = true;
  double v_threshold = 1.0;
  reset_rule reset = hard_reset(0.0);
};

/// The common form both parameter structs reduce to.
struct lif_params {
  double tau = 2.0;
  bool decay_input = true;
  double v_threshold = 1.0;
  reset_rule reset = hard_reset(0.0);

  constexpr lif_params() = default;
  constexpr lif_params(double t, bool d, double th, reset_rule r)
      : tau(t), decay_input(d), v_threshold(th), reset(r) {}
  constexpr lif_params(ottt_params p)  // NOLINT(google-explicit-constructor): a widening view
      : tau(p.tau), decay_input(p.decay_input), v_threshold(p.v_threshold), reset(p.reset) {}
  constexpr lif_params(sltt_params p)  // NOLINT(google-explicit-constructor)
      : tau(p.tau), decay_input(p.decay_input), v_threshold(p.v_threshold), reset(p.reset) {}
};

}  // namespace spikefuse
