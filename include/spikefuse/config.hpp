// spikefuse configuration: SF_HOST_DEVICE marks functions shared by host code and CUDA device code.
#pragma once

#if defined(__CUDACC__)
#define SF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define SF_HOST_DEVICE inline
#endif

// SF_CPU_CLONES: a hot element-wise CPU loop compiled three times, for x86-64 (SSE2), x86-64-v3
// (AVX2) and x86-64-v4 (AVX-512); the widest one the CPU runs is chosen when the program loads
// (GCC's target_clones, an ifunc). The results are the same bit for bit in every clone: the host
// flags forbid contracting a·b + c into an FMA (-ffp-contract=off), and the loops it marks compute
// each element on its own, with no floating-point reduction whose order could follow the vector
// width. -DSPIKEFUSE_NO_CPU_CLONES builds the baseline loop only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(SPIKEFUSE_NO_CPU_CLONES)
#define SF_CPU_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define SF_CPU_CLONES
#endif

#define SPIKEFUSE_VERSION_MAJOR 0
#define SPIKEFUSE_VERSION_MINOR 1
#define SPIKEFUSE_VERSION_PATCH 0
#define SPIKEFUSE_VERSION_STRING "0.1.0"
