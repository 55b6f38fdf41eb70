// Float math used by the neuron definitions, one spelling for host (std::) and device (CUDA intrinsics).
#pragma once

#include "spikefuse/config.hpp"

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace spikefuse::math {

inline constexpr float pi = 3.14159265358979323846f;

#if defined(__CUDACC__)
SF_HOST_DEVICE constexpr float exp(float x) { return ::expf(x); }
SF_HOST_DEVICE constexpr float log(float x) { return ::logf(x); }
SF_HOST_DEVICE constexpr float abs(float x) { return ::fabsf(x); }
SF_HOST_DEVICE constexpr float atan(float x) { return ::atanf(x); }
SF_HOST_DEVICE constexpr float erfc(float x) { return ::erfcf(x); }
SF_HOST_DEVICE constexpr float sin(float x) { return ::sinf(x); }
SF_HOST_DEVICE constexpr float cos(float x) { return ::cosf(x); }
SF_HOST_DEVICE constexpr float pow(float x, float y) { return ::powf(x, y); }
#else
constexpr float exp(float x) { return std::exp(x); }
constexpr float log(float x) { return std::log(x); }
constexpr float abs(float x) { return std::fabs(x); }
constexpr float atan(float x) { return std::atan(x); }
constexpr float erfc(float x) { return std::erfc(x); }
constexpr float sin(float x) { return std::sin(x); }
constexpr float cos(float x) { return std::cos(x); }
constexpr float pow(float x, float y) { return std::pow(x, y); }
#endif

/// Compile-time finiteness test (std::isfinite is not constexpr in C++20).
constexpr bool is_finite(double x) { return x == x && x - x == 0.0; }

}  // namespace spikefuse::math
