// main() for the CPU Google Benchmarks: BENCHMARK_MAIN, plus the BLAS kernels that ran in the
// report's context, since the GEMMs are most of a training batch and the kernels depend on the CPU.
#pragma once

#include <benchmark/benchmark.h>

#include "spikefuse/backend/cpu/blas_kernels.hpp"

#define SPIKEFUSE_CPU_BENCHMARK_MAIN()                                                          \
  int main(int argc, char** argv) {                                                             \
    benchmark::AddCustomContext("blas", spikefuse::cpu::blas_kernels_in_use.describe());        \
    benchmark::Initialize(&argc, argv);                                                         \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;                           \
    benchmark::RunSpecifiedBenchmarks();                                                        \
    benchmark::Shutdown();                                                                      \
    return 0;                                                                                   \
  }
