// Liveness sharing: buffers whose live intervals [first, last] in a step's schedule do not overlap share memory; pool = max over placements of offset + floats.
//
// Offsets come from greedy first fit (as in the "greedy by size" planner of Pisarchyk & Lee, 2020,
// used by TensorFlow Lite): each buffer goes to the lowest aligned offset where it overlaps no
// already placed buffer that is live at the same time, in the best of a few orders. For the ∂
// buffers of a chain this is two buffers in turn, the largest pair of neighbours.
#pragma once

#include <algorithm>
#include <functional>
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

/// Places the buffers in `order`, each at the lowest offset (a multiple of `align_floats`) where it
/// overlaps no already placed buffer live at the same time; returns the pool's size in floats.
inline long long place_first_fit(std::vector<live_buffer>& buffers, const std::vector<std::size_t>& order,
                                 long long align_floats) {
  auto align_up = [&](long long n) { return (n + align_floats - 1) / align_floats * align_floats; };
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

/// The most floats live in any one slot: no placement needs less.
inline long long most_live_at_once(const std::vector<live_buffer>& buffers) {
  long long most = 0;
  for (const auto& b : buffers) {  // the maximum is reached where some buffer starts
    long long live = 0;
    for (const auto& other : buffers) live += (other.first <= b.first && b.first <= other.last) ? other.floats : 0;
    most = std::max(most, live);
  }
  return most;
}

/// Places every buffer of `buffers` (sets its offset, a multiple of `align_floats`) and returns the
/// pool's size in floats. First fit in four orders — largest first, earliest first, longest-lived
/// first, largest size × lifetime first — and the smallest pool wins: no one order is best for
/// every network (on OTTT VGG-11-WS largest-first alone leaves a third of the pool unused).
/// Deterministic: ties go to the earlier order, and within an order to the earlier buffer.
inline long long place_by_liveness(std::vector<live_buffer>& buffers, long long align_floats = 64) {
  auto duration = [&](std::size_t i) { return static_cast<long long>(buffers[i].last - buffers[i].first + 1); };
  using before = std::function<bool(std::size_t, std::size_t)>;
  const before orders[] = {
      [&](std::size_t a, std::size_t b) { return buffers[a].floats > buffers[b].floats; },
      [&](std::size_t a, std::size_t b) {
        return buffers[a].first != buffers[b].first ? buffers[a].first < buffers[b].first : buffers[a].floats > buffers[b].floats;
      },
      [&](std::size_t a, std::size_t b) {
        return duration(a) != duration(b) ? duration(a) > duration(b) : buffers[a].floats > buffers[b].floats;
      },
      [&](std::size_t a, std::size_t b) { return buffers[a].floats * duration(a) > buffers[b].floats * duration(b); },
  };
  long long best = -1;
  std::vector<live_buffer> best_placement;
  for (const auto& order_by : orders) {
    std::vector<std::size_t> order(buffers.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), order_by);
    std::vector<live_buffer> trial = buffers;
    const long long pool = place_first_fit(trial, order, align_floats);
    if (best < 0 || pool < best) {
      best = pool;
      best_placement = std::move(trial);
    }
  }
  buffers = std::move(best_placement);
  return std::max(best, 0LL);
}

}  // namespace spikefuse::dsl
