// port = what flows between two layers: a per-sample shape and whether it is a current or spikes (+ trace).
#pragma once

#include "spikefuse/core/shape.hpp"

namespace spikefuse {

/// A real-valued tensor (input or the output of a parametric layer) or a neuron's spikes.
enum class signal { current, spikes };

/// The value flowing out of a layer. `traced` marks OTTT spikes, which carry the presynaptic trace â
/// alongside (spec §B.4): pass-through layers apply the same op to both.
template <shape Dims, signal Kind, bool Traced = false>
struct port {
  static constexpr shape dims = Dims;
  static constexpr signal kind = Kind;
  static constexpr bool traced = Traced;
  static constexpr long long size = Dims.size();
};

}  // namespace spikefuse
