// Passive OpenMP waiting for training binaries: re-executes the program once with OMP_WAIT_POLICY=passive.
//
// Why: BLAS and the fused loops share one OpenMP pool. By default idle OpenMP threads spin; when the
// machine has fewer free cores than threads (another job, a busy VM host), the spinning threads
// steal the cores the GEMMs need: an epoch of the default MLP took 5x longer on the 2-core build
// machine. libgomp reads the policy only at start-up, hence the re-exec. A policy the user set
// is respected.
#pragma once

#include <unistd.h>

#include <cstdlib>

namespace spikefuse::io {

inline void ensure_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  ::execv("/proc/self/exe", argv);
  // execv only returns on failure (no /proc): carry on with the default policy.
}

}  // namespace spikefuse::io
