// OTTTLIF / SLTTLIF: LIF neurons s[t] = Θ(h[t] − θ) with v[t−1] detached; OTTT also keeps â[t] = λ·â[t−1] + s[t].
//
// Both are pure specifications: static parameters and the surrogate as template arguments, the
// math in lif_math.hpp. Backends read `params`, `surrogate` and `keeps_trace`.
#pragma once

#include "spikefuse/core/math.hpp"
#include "spikefuse/core/port.hpp"
#include "spikefuse/neuron/lif_math.hpp"
#include "spikefuse/neuron/surrogate.hpp"

namespace spikefuse {

namespace detail {
template <lif_params P>
constexpr bool lif_params_valid() {
  // Only the first failing check reports: a NaN τ is "not finite", not also "not greater than 1".
  constexpr bool finite =
      math::is_finite(P.tau) && math::is_finite(P.v_threshold) && math::is_finite(P.reset.v_reset);
  static_assert(finite, "spikefuse: LIF parameters must be finite numbers");
  static_assert(!finite || P.tau > 1.0, "spikefuse: LIF tau must be greater than 1 (SpikingJelly asserts tau > 1)");
  static_assert(!finite || P.reset.soft || P.reset.v_reset < P.v_threshold,
                "spikefuse: a hard reset needs v_reset below v_threshold");
  return true;
}
}  // namespace detail

/// Neuron for Online Training Through Time: the next parametric layer's weight gradient uses the
/// presynaptic trace â (GradwithTrace). Defaults = SpikingJelly OTTTLIFNode().
template <ottt_params P = ottt_params{}, class Surrogate = surrogate::Sigmoid<>>
struct OTTTLIF {
  static_assert(surrogate::surrogate_function<Surrogate>,
                "spikefuse: OTTTLIF's second argument must be a surrogate from spikefuse::surrogate");
  static_assert(detail::lif_params_valid<lif_params(P)>());
  static constexpr lif_params params = P;
  using surrogate_type = Surrogate;
  static constexpr bool keeps_trace = true;
  static constexpr const char* name = "OTTTLIF";
  template <class In>
  using output = port<In::dims, signal::spikes, true>;
};

/// Neuron for Spatial Learning Through Time: weight gradients use the instantaneous spikes.
/// Defaults = SpikingJelly SLTTLIFNode(); the SLTT paper's settings are `SLTTPaperLIF`.
template <sltt_params P = sltt_params{}, class Surrogate = surrogate::Sigmoid<>>
struct SLTTLIF {
  static_assert(surrogate::surrogate_function<Surrogate>,
                "spikefuse: SLTTLIF's second argument must be a surrogate from spikefuse::surrogate");
  static_assert(detail::lif_params_valid<lif_params(P)>());
  static constexpr lif_params params = P;
  using surrogate_type = Surrogate;
  static constexpr bool keeps_trace = false;
  static constexpr const char* name = "SLTTLIF";
  template <class In>
  using output = port<In::dims, signal::spikes, false>;
};

/// The SLTT paper's neuron (qymeng94/SLTT defaults): τ = 1.1, no input decay, soft reset, triangle surrogate.
using SLTTPaperLIF =
    SLTTLIF<sltt_params{.tau = 1.1, .decay_input = false, .reset = soft_reset}, surrogate::PiecewiseQuadratic<1.f>>;

template <class T>
inline constexpr bool is_neuron = false;
template <ottt_params P, class S>
inline constexpr bool is_neuron<OTTTLIF<P, S>> = true;
template <sltt_params P, class S>
inline constexpr bool is_neuron<SLTTLIF<P, S>> = true;

/// True for an OTTT neuron, false for any other layer (safe to ask of every layer).
template <class T>
inline constexpr bool keeps_trace = false;
template <ottt_params P, class S>
inline constexpr bool keeps_trace<OTTTLIF<P, S>> = true;

}  // namespace spikefuse
