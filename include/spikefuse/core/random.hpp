// uniform01: u ~ U[0, 1) as (engine() >> 40)·2⁻²⁴ from mt19937_64, the same stream on every platform and backend.
#pragma once

#include <cstdint>
#include <random>

namespace spikefuse {

/// Uniform floats in [0, 1) from the raw engine: the same stream with every standard library
/// (std::uniform_real_distribution's algorithm is implementation-defined), so that the CPU and CUDA
/// backends draw identical initial weights and dropout masks from one seed.
class uniform01 {
 public:
  explicit uniform01(std::uint64_t seed) : engine_(seed) {}
  void seed(std::uint64_t s) { engine_.seed(s); }
  float operator()() { return static_cast<float>(engine_() >> 40) * 0x1p-24f; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace spikefuse
