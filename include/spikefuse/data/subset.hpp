// truncate(d, n): keep the first n samples of a dataset (quick runs, smoke tests).
#pragma once

#include <stdexcept>

#include "spikefuse/data/idx.hpp"

namespace spikefuse::data {

inline void truncate(dataset& d, int n) {
  if (n < 0) throw std::invalid_argument("truncate: negative sample count");
  if (n >= d.count) return;
  d.count = n;
  d.images.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(d.features()));
  d.labels.resize(static_cast<std::size_t>(n));
}

}  // namespace spikefuse::data
