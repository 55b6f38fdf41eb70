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
SF_HOST_DEVICE constexpr float sqrt(float x) { return ::sqrtf(x); }
#else
constexpr float exp(float x) { return std::exp(x); }
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
