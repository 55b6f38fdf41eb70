// Liveness sharing: buffers whose live intervals [first, last] in a step's schedule do not overlap share memory; pool = max over placements of offset + floats.
//
// Offsets come from greedy first fit, largest buffer first (the "greedy by size" planner of
// Pisarchyk & Lee, 2020, used by TensorFlow Lite): each buffer goes to the lowest aligned offset
// where it overlaps no already placed buffer that is live at the same time. For the ∂ buffers of a
// chain this is two buffers in turn, the largest pair of neighbours.
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

namespace spikefuse::dsl {

/// One buffer of a shared pool: its size, the first and last schedule slot it is live in (both
/// inclusive), and the offset the planner gives it.
struct live_buffer {
  long long floats = 0;
  int first = 0;
  int last = 0;
  long long offset = -1;
};

inline bool live_together(const live_buffer& a, const live_buffer& b) { return a.first <= b.last && b.first <= a.last; }

/// Places every buffer of `buffers` (sets its offset, a multiple of `align_floats`) and returns the
/// pool's size in floats. Deterministic: ties go to the earlier buffer in `buffers`.
inline long long place_by_liveness(std::vector<live_buffer>& buffers, long long align_floats = 64) {
  auto align_up = [&](long long n) { return (n + align_floats - 1) / align_floats * align_floats; };
  std::vector<std::size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return buffers[a].floats > buffers[b].floats; });
  std::vector<std::size_t> placed;
  long long pool = 0;
  for (std::size_t i : order) {
    live_buffer& buffer = buffers[i];
    std::vector<std::size_t> neighbours;
    for (std::size_t j : placed)
      if (live_together(buffer, buffers[j])) neighbours.push_back(j);
    std::sort(neighbours.begin(), neighbours.end(), [&](std::size_t a, std::size_t b) { return buffers[a].offset < buffers[b].offset; });
    long long at = 0;
    for (std::size_t j : neighbours) {
      if (buffers[j].offset >= at + buffer.floats) break;  // fits in the gap before this neighbour
      at = std::max(at, align_up(buffers[j].offset + buffers[j].floats));
    }
    buffer.offset = at;
    placed.push_back(i);
    pool = std::max(pool, align_up(at + buffer.floats));
  }
  return pool;
}

}  // namespace spikefuse::dsl
