// Float math used by the neuron definitions, one spelling for host (std::) and device (CUDA intrinsics).
#pragma once

#include "spikefuse/config.hpp"

#include <bit>
#include <cstdint>

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace spikefuse::math {

inline constexpr float pi = 3.14159265358979323846f;

namespace detail {
/// e^x = 2^n·e^r with n = round(x/ln 2) and |r| ≤ ln 2/2, e^r by its Taylor series to r⁷ (truncation
/// below 1e-8 relative), for host code. Why not glibc's expf: it is an opaque call, so GCC does not
/// vectorise an `omp simd` loop that contains it (libmvec's vector versions are declared only under
/// -ffast-math), and the neuron loops that evaluate a surrogate through exp ran one element at a time.
/// This is branch-free and inline. test_surrogate checks every 997th float of [−110, 110]: each result
/// is the correctly rounded e^x or one of its two neighbours (a sweep of every 7th float found the same).
constexpr float exp_series(float x) {
  // Outside [−104, 89] e^x rounds to 0 or +inf; clamping keeps n in range. NaN fails both tests and
  // comes out NaN.
  x = x < -104.f ? -104.f : x;
  x = x > 89.f ? 89.f : x;
  // Adding 1.5·2²³ rounds to an integer (to nearest even) held in the low mantissa bits.
  // n as a float from n_int, not as shifted − 1.5·2²³, which -ffast-math in a user's build could
  // reassociate away.
  constexpr float round_shift = 12582912.f;
  const float shifted = x * 1.44269504088896341f + round_shift;
  const std::int32_t n_int = std::bit_cast<std::int32_t>(shifted) - std::bit_cast<std::int32_t>(round_shift);
  const float n = static_cast<float>(n_int);
  // ln 2 in two parts (Cody–Waite): n·ln2_hi is exact for |n| < 2⁹, so r keeps its low bits.
  constexpr float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606820309417e-6f;
  const float r = (x - n * ln2_hi) - n * ln2_lo;
  float tail = 1.f / 5040.f;
  tail = tail * r + 1.f / 720.f;
  tail = tail * r + 1.f / 120.f;
  tail = tail * r + 1.f / 24.f;
  tail = tail * r + 1.f / 6.f;
  tail = tail * r + 0.5f;
  const float e_r = 1.f + (r + r * r * tail);  // the 1 added last: one rounding near the result's ulp
  // 2ⁿ as two normal factors (n ∈ [−150, 128]): a subnormal result is rounded to the subnormal grid,
  // not flushed to 0, and a large one overflows to inf.
  const std::int32_t n_low = n_int >> 1, n_high = n_int - n_low;
  const float scale_low = std::bit_cast<float>(static_cast<std::uint32_t>(n_low + 127) << 23);
  const float scale_high = std::bit_cast<float>(static_cast<std::uint32_t>(n_high + 127) << 23);
  return e_r * scale_low * scale_high;
}
}  // namespace detail

#if defined(__CUDACC__)
// Device: the CUDA math library's expf. Host code in a .cu file: the same function as in a .cpp file.
SF_HOST_DEVICE constexpr float exp(float x) {
#if defined(__CUDA_ARCH__)
  return ::expf(x);
#else
  return detail::exp_series(x);
#endif
}
SF_HOST_DEVICE constexpr float log(float x) { return ::logf(x); }
SF_HOST_DEVICE constexpr float abs(float x) { return ::fabsf(x); }
SF_HOST_DEVICE constexpr float atan(float x) { return ::atanf(x); }
SF_HOST_DEVICE constexpr float erfc(float x) { return ::erfcf(x); }
SF_HOST_DEVICE constexpr float sin(float x) { return ::sinf(x); }
SF_HOST_DEVICE constexpr float cos(float x) { return ::cosf(x); }
SF_HOST_DEVICE constexpr float pow(float x, float y) { return ::powf(x, y); }
SF_HOST_DEVICE constexpr float sqrt(float x) { return ::sqrtf(x); }
#else
constexpr float exp(float x) { return detail::exp_series(x); }
constexpr float log(float x) { return std::log(x); }
constexpr float abs(float x) { return std::fabs(x); }
constexpr float atan(float x) { return std::atan(x); }
constexpr float erfc(float x) { return std::erfc(x); }
constexpr float sin(float x) { return std::sin(x); }
constexpr float cos(float x) { return std::cos(x); }
constexpr float pow(float x, float y) { return std::pow(x, y); }
constexpr float sqrt(float x) { return std::sqrt(x); }
#endif

/// Compile-time finiteness test (std::isfinite is not constexpr in C++20). Comparisons only: x − x on
/// an infinity is not a constant expression and would hide the library's own message.
constexpr bool is_finite(double x) { return x == x && x <= 1.7976931348623157e308 && x >= -1.7976931348623157e308; }

/// a·b rounded once, never fused into a following add: the OTTT trace must round like SpikingJelly's
/// separate multiply and add. nvcc contracts by default (-fmad=true); __fmul_rn is never contracted.
/// Host builds rely on -ffp-contract=off, which the spikefuse CMake target sets.
#if defined(__CUDA_ARCH__)
SF_HOST_DEVICE constexpr float mul_rn(float a, float b) { return __fmul_rn(a, b); }
#else
SF_HOST_DEVICE constexpr float mul_rn(float a, float b) { return a * b; }
#endif

}  // namespace spikefuse::math
