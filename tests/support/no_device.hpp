// A CUDA test program without a GPU: exit 77 (CTest's SKIP_RETURN_CODE) once its host checks pass, or 1 where SPIKEFUSE_REQUIRE_GPU=1 says there must be one.
//
// "Passed" would claim device checks that never ran; a lent GPU machine whose driver does not load
// (scripts/gpu_session.sh sets SPIKEFUSE_REQUIRE_GPU=1) must fail instead of skipping.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace spikefuse::testing {

inline constexpr int skipped_exit_code = 77;

inline int exit_without_device(const std::string& reason, bool host_checks_failed = false) {
  if (host_checks_failed) return 1;
  if (const char* required = std::getenv("SPIKEFUSE_REQUIRE_GPU"); required && std::string(required) == "1") {
    std::printf("FAIL: no CUDA device (%s), but SPIKEFUSE_REQUIRE_GPU=1 says this machine has one\n", reason.c_str());
    return 1;
  }
  std::printf("SKIP: no CUDA device (%s): the device checks did not run\n", reason.c_str());
  return skipped_exit_code;
}

}  // namespace spikefuse::testing
