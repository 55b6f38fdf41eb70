// spikefuse configuration: SF_HOST_DEVICE marks functions shared by host code and CUDA device code.
#pragma once

#if defined(__CUDACC__)
#define SF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define SF_HOST_DEVICE inline
#endif

#define SPIKEFUSE_VERSION_MAJOR 0
#define SPIKEFUSE_VERSION_MINOR 1
#define SPIKEFUSE_VERSION_PATCH 0
#define SPIKEFUSE_VERSION_STRING "0.1.0"
