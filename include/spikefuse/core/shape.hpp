// shape = C x H x W elements per sample; a flat feature vector is C x 1 x 1.
#pragma once

#include "spikefuse/config.hpp"

namespace spikefuse {

/// Per-sample tensor shape, channel-major (C, H, W). Device-safe and usable as a template argument.
struct shape {
  int c = 1;
  int h = 1;
  int w = 1;

  SF_HOST_DEVICE constexpr long long size() const { return static_cast<long long>(c) * h * w; }
  SF_HOST_DEVICE constexpr bool is_flat() const { return h == 1 && w == 1; }
  SF_HOST_DEVICE constexpr bool is_valid() const { return c > 0 && h > 0 && w > 0; }
  friend SF_HOST_DEVICE constexpr bool operator==(shape a, shape b) {
    return a.c == b.c && a.h == b.h && a.w == b.w;
  }
};

/// Positions of a k-wide window sliding with `stride` over `in` positions zero-padded by `padding`
/// on both sides (0 when the window does not fit, or the stride is not positive): the output size of
/// a convolution or pooling.
SF_HOST_DEVICE constexpr int window_positions(int in, int kernel, int stride, int padding) {
  return stride > 0 && kernel <= in + 2 * padding ? (in + 2 * padding - kernel) / stride + 1 : 0;
}

/// Whether a k×k window has a position in both directions of `in`'s plane.
SF_HOST_DEVICE constexpr bool window_fits(shape in, int kernel, int stride, int padding) {
  return window_positions(in.h, kernel, stride, padding) > 0 && window_positions(in.w, kernel, stride, padding) > 0;
}

/// The output of a k×k window over `in` with `channels` channels; where the window does not fit,
/// `in`'s plane (the layer reports that, and later layers then report nothing that follows from it).
SF_HOST_DEVICE constexpr shape window_output(shape in, int channels, int kernel, int stride, int padding) {
  if (!window_fits(in, kernel, stride, padding)) return shape{channels, in.h, in.w};
  return shape{channels, window_positions(in.h, kernel, stride, padding), window_positions(in.w, kernel, stride, padding)};
}

/// A flat feature vector of n elements.
SF_HOST_DEVICE constexpr shape features(int n) { return shape{n, 1, 1}; }

}  // namespace spikefuse
