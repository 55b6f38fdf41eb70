// Device and pinned host memory as move-only owners: one cudaMalloc per owner, freed in the destructor.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <utility>

#include "spikefuse/backend/cuda/error.cuh"

namespace spikefuse::cuda {

/// `count` elements of T in device memory, zero-initialised.
template <class T>
class device_array {
 public:
  device_array() = default;
  explicit device_array(std::size_t count) : count_(count) {
    if (count_ == 0) return;
    SF_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), count_ * sizeof(T)));
    // cudaMemset runs on the legacy default stream, which does not order against the backend's
    // non-blocking stream: wait, so that no later upload on that stream can be overwritten by it.
    SF_CUDA_CHECK(cudaMemset(data_, 0, count_ * sizeof(T)));
    SF_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  }
  device_array(device_array&& o) noexcept : data_(std::exchange(o.data_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  device_array& operator=(device_array&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    return *this;
  }
  device_array(const device_array&) = delete;
  device_array& operator=(const device_array&) = delete;
  ~device_array() {
    if (data_) cudaFree(data_);
  }

  T* data() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

/// `count` elements of T in page-locked host memory (asynchronous copies need it), zero-initialised.
template <class T>
class pinned_array {
 public:
  pinned_array() = default;
  explicit pinned_array(std::size_t count) : count_(count) {
    if (count_ == 0) return;
    SF_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&data_), count_ * sizeof(T)));
    for (std::size_t i = 0; i < count_; ++i) data_[i] = T{};
  }
  pinned_array(pinned_array&& o) noexcept : data_(std::exchange(o.data_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  pinned_array& operator=(pinned_array&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    return *this;
  }
  pinned_array(const pinned_array&) = delete;
  pinned_array& operator=(const pinned_array&) = delete;
  ~pinned_array() {
    if (data_) cudaFreeHost(data_);
  }

  T* data() const { return data_; }
  std::size_t size() const { return count_; }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

/// One device allocation carved into buffers, each aligned to 256 bytes (vector loads, coalescing).
class device_arena {
 public:
  static constexpr std::size_t alignment = 256;

  /// An arena that only measures: take() returns nullptr and counts the bytes a real one needs.
  device_arena() = default;
  explicit device_arena(std::size_t bytes) : storage_(bytes), measuring_(false) {}

  /// Bytes an arena needs for buffers of these sizes (in bytes).
  static constexpr std::size_t padded(std::size_t bytes) { return (bytes + alignment - 1) / alignment * alignment; }

  /// The next `count` elements of T (zeroed at construction), or nullptr for count ≤ 0.
  template <class T>
  T* take(long long count) {
    if (count <= 0) return nullptr;
    const std::size_t bytes = padded(static_cast<std::size_t>(count) * sizeof(T));
    if (measuring_) {
      used_ += bytes;
      return nullptr;
    }
    if (used_ + bytes > storage_.size())
      throw std::logic_error("spikefuse: CUDA arena overflow: the backend asked for more than it planned");
    T* p = reinterpret_cast<T*>(storage_.data() + used_);
    used_ += bytes;
    return p;
  }
  std::size_t capacity_bytes() const { return storage_.size(); }
  std::size_t used_bytes() const { return used_; }

 private:
  device_array<unsigned char> storage_;
  std::size_t used_ = 0;
  bool measuring_ = true;
};

}  // namespace spikefuse::cuda
