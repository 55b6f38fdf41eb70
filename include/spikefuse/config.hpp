// spikefuse configuration: SF_HOST_DEVICE marks functions shared by host code and CUDA device code.
#pragma once

#if defined(__CUDACC__)
#define SF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define SF_HOST_DEVICE inline
#endif

// SF_CPU_CLONES: a hot element-wise CPU loop compiled three times, for x86-64 (SSE2), x86-64-v3
// (AVX2) and x86-64-v4 (AVX-512); the widest one the CPU runs is chosen when the program loads
// (GCC's target_clones, an ifunc). The results are the same bit for bit in every clone: the loops
// it marks compute each element on its own, with no floating-point reduction, and spikefuse's
// CMake target compiles with -ffp-contract=off, so no clone contracts a·b + c into an FMA. A build
// that bypasses that target must pass -ffp-contract=off too, or results depend on the CPU.
// -ffast-math (which permits reassociation and approximations) gets no clones;
// -DSPIKEFUSE_NO_CPU_CLONES builds the baseline loop only.
#include <cstddef>  // __GLIBC__: target_clones needs ifunc
#if defined(__x86_64__) && defined(__GNUC__) && __GNUC__ >= 12 && !defined(__clang__) && !defined(__INTEL_COMPILER) && \
    !defined(__NVCOMPILER) && defined(__GLIBC__) && !defined(__FAST_MATH__) && !defined(SPIKEFUSE_NO_CPU_CLONES)
#define SF_CPU_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define SF_CPU_CLONES
#endif

#define SPIKEFUSE_VERSION_MAJOR 0
#define SPIKEFUSE_VERSION_MINOR 1
#define SPIKEFUSE_VERSION_PATCH 0
#define SPIKEFUSE_VERSION_STRING "0.1.0"
