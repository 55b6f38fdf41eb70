// Arena: one allocation sized by the memory plan, carved into float buffers; nothing is allocated after.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>

namespace spikefuse::cpu {

class arena {
 public:
  explicit arena(std::size_t floats)
      : storage_(floats ? new (std::align_val_t{64}) float[floats]() : nullptr), capacity_(floats) {}

  /// The next n floats (zero-initialised), or nullptr for n = 0.
  float* take(long long n) {
    if (n <= 0) return nullptr;
    if (used_ + static_cast<std::size_t>(n) > capacity_)
      throw std::logic_error("spikefuse: arena overflow: the backend asked for more than the memory plan");
    float* p = storage_.get() + used_;
    used_ += static_cast<std::size_t>(n);
    return p;
  }
  std::size_t capacity_bytes() const { return capacity_ * sizeof(float); }
  std::size_t used_bytes() const { return used_ * sizeof(float); }

 private:
  struct aligned_delete {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<float[], aligned_delete> storage_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

}  // namespace spikefuse::cpu
