// phase of a forward step: eval (spikes only), train_no_grad (state and trace advance, nothing kept), train (keep ψ for backward).
#pragma once

namespace spikefuse {

enum class phase {
  eval,           // SpikingJelly model.eval(): no trace, no dropout, nothing kept
  train_no_grad,  // training step outside SLTT-K's chosen steps: traces and dropout as in training
  train,          // training step followed by a backward pass
};

constexpr bool is_training(phase p) { return p != phase::eval; }

}  // namespace spikefuse
