// Training methods: OTTT_A / SLTT (Σ_t ∇L_t, one update per batch), OTTT_O (update every step), SLTT-K (∇ on K of T steps).
//
// The weight-gradient rule (trace for OTTT, spikes for SLTT) is a property of the neuron type in the
// network; the method chosen here fixes when gradients are taken and applied.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spikefuse {

enum class update_schedule {
  per_batch,  // OTTT_A, SLTT, SLTT-K: accumulate (+=) the per-step gradients, one optimizer step
  per_step,   // OTTT_O: zero, backward and optimizer step at every time step
};

enum class training_method { ottt_a, ottt_o, sltt, sltt_k };

inline training_method parse_method(std::string_view s) {
  if (s == "ottt_a") return training_method::ottt_a;
  if (s == "ottt_o") return training_method::ottt_o;
  if (s == "sltt") return training_method::sltt;
  if (s == "sltt_k") return training_method::sltt_k;
  throw std::invalid_argument("unknown method '" + std::string(s) + "' (choose ottt_a, ottt_o, sltt or sltt_k)");
}

inline const char* to_string(training_method m) {
  switch (m) {
    case training_method::ottt_a: return "ottt_a";
    case training_method::ottt_o: return "ottt_o";
    case training_method::sltt: return "sltt";
    case training_method::sltt_k: return "sltt_k";
  }
  return "?";
}

inline bool uses_trace(training_method m) { return m == training_method::ottt_a || m == training_method::ottt_o; }

inline update_schedule schedule_of(training_method m) {
  return m == training_method::ottt_o ? update_schedule::per_step : update_schedule::per_batch;
}

/// Which of the T steps get a backward pass: all of them (k ≤ 0, which is every method but
/// SLTT-K, or k ≥ T), or k distinct steps drawn uniformly (SLTT-K: torch.randperm(T)[:K]). The loss
/// of a chosen step is still divided by T, not K.
inline std::vector<char> choose_backward_steps(int time_steps, int k, std::mt19937_64& rng) {
  if (time_steps < 1) throw std::invalid_argument("spikefuse: T must be at least 1");
  if (k <= 0 || k >= time_steps) return std::vector<char>(static_cast<std::size_t>(time_steps), 1);
  std::vector<int> order(static_cast<std::size_t>(time_steps));
  for (int i = 0; i < time_steps; ++i) order[static_cast<std::size_t>(i)] = i;
  std::vector<char> chosen(static_cast<std::size_t>(time_steps), 0);
  for (int i = 0; i < k; ++i) {  // partial Fisher-Yates, written out so the draw is the same on every platform
    const auto j = i + static_cast<int>(rng() % static_cast<std::uint64_t>(time_steps - i));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    chosen[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = 1;
  }
  return chosen;
}

}  // namespace spikefuse
