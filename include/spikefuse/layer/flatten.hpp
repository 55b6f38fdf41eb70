// Flatten: C×H×W → (C·H·W)×1×1; no data movement, spikes and trace alike.
#pragma once

#include "spikefuse/core/port.hpp"

namespace spikefuse {

struct Flatten {
  static constexpr const char* name = "Flatten";
  template <class In>
  using output = port<features(static_cast<int>(In::size)), In::kind, In::traced>;
};

}  // namespace spikefuse
