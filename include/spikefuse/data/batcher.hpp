// Epoch batcher: per-epoch permutation as a pure function of (seed, epoch), cut into batches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace spikefuse::data {

/// Splits sample indices 0..count into batches of batch_size (the last one may be shorter). With
/// shuffle, each epoch's order is a pure function of (seed, epoch), identical across standard
/// libraries, so a run can be resumed at any epoch and reproduced elsewhere.
class batcher {
 public:
  /// Throws std::invalid_argument unless count >= 0 and batch_size >= 1. Ready for epoch 0.
  batcher(int count, int batch_size, bool shuffle, std::uint64_t seed)
      : count_(count), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
    if (count < 0) {
      throw std::invalid_argument("batcher: count must be >= 0, got " + std::to_string(count));
    }
    if (batch_size < 1) {
      throw std::invalid_argument("batcher: batch_size must be >= 1, got " +
                                  std::to_string(batch_size));
    }
    order_.resize(static_cast<std::size_t>(count));
    start_epoch(0);
  }

  /// Sets the order for this epoch (>= 0): identity without shuffle, else a Fisher-Yates shuffle
  /// driven by std::mt19937_64(seed ^ (epoch * 0x9E3779B97F4A7C15)). std::shuffle and
  /// std::uniform_int_distribution are avoided because their algorithms are
  /// implementation-defined.
  void start_epoch(int epoch) {
    if (epoch < 0) {
      throw std::invalid_argument("batcher: epoch must be >= 0, got " + std::to_string(epoch));
    }
    std::iota(order_.begin(), order_.end(), 0);
    if (!shuffle_) return;
    constexpr std::uint64_t golden = 0x9E3779B97F4A7C15u;  // 2^64 / phi: spreads nearby epochs
    std::mt19937_64 rng(seed_ ^ (static_cast<std::uint64_t>(epoch) * golden));
    for (std::size_t i = order_.size(); i > 1; --i) {
      const std::size_t j = static_cast<std::size_t>(uniform_below(rng, i));
      std::swap(order_[i - 1], order_[j]);
    }
  }

  int num_batches() const { return count_ / batch_size_ + (count_ % batch_size_ != 0 ? 1 : 0); }

  /// Indices of batch b in [0, num_batches()); std::out_of_range otherwise. The span is valid
  /// until the next start_epoch.
  std::span<const int> batch(int b) const {
    if (b < 0 || b >= num_batches()) {
      throw std::out_of_range("batcher: batch " + std::to_string(b) + " not in [0, " +
                              std::to_string(num_batches()) + ")");
    }
    const std::size_t begin = static_cast<std::size_t>(b) * static_cast<std::size_t>(batch_size_);
    const std::size_t len =
        std::min(static_cast<std::size_t>(batch_size_), order_.size() - begin);
    return std::span<const int>(order_.data() + begin, len);
  }

  int count() const { return count_; }
  int batch_size() const { return batch_size_; }

 private:
  // Unbiased integer in [0, n) by rejection of the top partial block of 2^64 (n >= 1).
  static std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const std::uint64_t x = rng();
      if (x >= threshold) return x % n;
    }
  }

  int count_;
  int batch_size_;
  bool shuffle_;
  std::uint64_t seed_;
  std::vector<int> order_;
};

}  // namespace spikefuse::data
