// BatchNorm2d: y = γ·(x − μ_B)/√(σ²_B + ε) + β with the statistics of this step's batch per channel (training),
// running μ, σ² ← (1 − m)·running + m·(μ_B, unbiased σ²_B) at every training step; evaluation uses the running ones (spec §B.5).
#pragma once

#include <array>

#include "spikefuse/core/port.hpp"
#include "spikefuse/layer/parameter_spec.hpp"

namespace spikefuse {

struct batch_norm_opts {
  float momentum = 0.1f;
  float eps = 1e-5f;
};

template <batch_norm_opts Opts = batch_norm_opts{}>
struct BatchNorm2d {
  static_assert(Opts.momentum >= 0.f && Opts.momentum <= 1.f, "spikefuse: BatchNorm2d momentum must be in [0, 1]");
  static_assert(Opts.eps > 0.f, "spikefuse: BatchNorm2d eps must be positive");
  static constexpr const char* name = "BatchNorm2d";
  static constexpr const char* tensor_prefix = "bn";
  static constexpr bool parametric = true;
  static constexpr bool has_statistics = true;
  static constexpr float momentum = Opts.momentum;
  static constexpr float eps = Opts.eps;

  template <class In>
  static constexpr auto parameter_tensors() {
    constexpr int c = In::dims.c;
    return std::array{tensor_spec{"weight", c, c, 1, 1, 1, init_rule::ones},
                      tensor_spec{"bias", c, c, 1, 1, 1, init_rule::zeros}};
  }
  /// Not trained, but saved with the parameters: what evaluation normalises with.
  template <class In>
  static constexpr auto statistic_tensors() {
    constexpr int c = In::dims.c;
    return std::array{tensor_spec{"running_mean", c, c, 1, 1, 1, init_rule::zeros},
                      tensor_spec{"running_var", c, c, 1, 1, 1, init_rule::ones}};
  }
  template <class In>
  using output = port<In::dims, signal::current>;
};

template <class T>
inline constexpr bool is_batch_norm = false;
template <batch_norm_opts O>
inline constexpr bool is_batch_norm<BatchNorm2d<O>> = true;

}  // namespace spikefuse
