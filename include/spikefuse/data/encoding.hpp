// Spike encoders: one time step of a batch of [0,1] images as direct intensities or Poisson spikes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "spikefuse/data/idx.hpp"

namespace spikefuse::data {

/// `direct`: the analogue intensity is fed at every step (the first layer does the encoding).
/// `poisson`: each pixel spikes independently with probability = intensity at every step.
enum class encoding { direct, poisson };

inline const char* to_string(encoding e) {
  switch (e) {
    case encoding::direct: return "direct";
    case encoding::poisson: return "poisson";
  }
  return "unknown";
}

/// "direct" | "poisson"; anything else throws std::invalid_argument listing the valid choices.
inline encoding parse_encoding(std::string_view s) {
  if (s == "direct") return encoding::direct;
  if (s == "poisson") return encoding::poisson;
  throw std::invalid_argument("unknown encoding '" + std::string(s) +
                              "'; valid choices: direct, poisson");
}

namespace detail {

inline const float* sample_row(const dataset& d, int i) {
  if (i < 0 || i >= d.count) {
    throw std::out_of_range("encode: sample index " + std::to_string(i) + " not in [0, " +
                            std::to_string(d.count) + ")");
  }
  return d.images.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(d.features());
}

}  // namespace detail

/// Writes rows idx[0..n) of d.images into out[n * features]; the same at every time step.
inline void encode_direct(const dataset& d, std::span<const int> idx, float* out) {
  const std::size_t f = static_cast<std::size_t>(d.features());
  for (std::size_t b = 0; b < idx.size(); ++b) {
    const float* src = detail::sample_row(d, idx[b]);
    std::copy(src, src + f, out + b * f);
  }
}

/// Writes one time step of Bernoulli(p = intensity) spikes (1.0f / 0.0f) for rows idx[0..n) into
/// out[n * features], drawing from rng; call once per step with the same rng for a spike train.
///
/// The uniforms are built from the raw 64-bit engine output (two 24-bit values per draw, exact in
/// float), not with std::uniform_real_distribution, whose algorithm is implementation-defined: the
/// spikes are therefore a function of the engine's seed (and the sequence of calls made with it)
/// only, identical across compilers and standard libraries. Intensity 0 never spikes, 1 always
/// does. A half-used draw is discarded at the end of each call, so steps do not share a draw.
inline void encode_poisson(const dataset& d, std::span<const int> idx, float* out,
                           std::mt19937_64& rng) {
  const std::size_t f = static_cast<std::size_t>(d.features());
  std::uint64_t word = 0;
  bool have_low = false;
  for (std::size_t b = 0; b < idx.size(); ++b) {
    const float* src = detail::sample_row(d, idx[b]);
    float* dst = out + b * f;
    for (std::size_t j = 0; j < f; ++j) {
      std::uint32_t u;
      if (have_low) {
        u = static_cast<std::uint32_t>((word >> 8) & 0xFFFFFFu);
        have_low = false;
      } else {
        word = rng();
        u = static_cast<std::uint32_t>(word >> 40);
        have_low = true;
      }
      dst[j] = static_cast<float>(u) * 0x1p-24f < src[j] ? 1.0f : 0.0f;
    }
  }
}

}  // namespace spikefuse::data
