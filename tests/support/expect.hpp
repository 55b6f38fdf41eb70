// Check counting for the CUDA test programs, which do not use Boost.Test: expect(ok, what) prints and counts a failed check; main returns failures != 0.
#pragma once

#include <cstdio>
#include <string>

namespace spikefuse::testing {

inline int failures = 0;

inline void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::printf("  FAIL %s\n", what.c_str());
  }
}

}  // namespace spikefuse::testing
