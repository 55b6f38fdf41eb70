// CUDA and cuBLAS status checks: every failing call becomes a spikefuse::cuda::cuda_error naming the call, file and line.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace spikefuse::cuda {

struct cuda_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    throw cuda_error(std::string("spikefuse: CUDA error ") + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                     ") in " + call + " at " + file + ":" + std::to_string(line));
}

inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw cuda_error(std::string("spikefuse: cuBLAS error ") + cublasGetStatusName(status) + " in " + call + " at " + file +
                     ":" + std::to_string(line));
}

/// Number of usable CUDA devices; 0 when there is none or no driver (never throws).
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" / "insufficient driver" status
    return 0;
  }
  return n;
}

/// Why there is no device, in one phrase (for the "no CUDA device" line of the binaries).
inline std::string no_device_reason() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  (void)cudaGetLastError();
  if (err == cudaSuccess) return n == 0 ? "the driver reports no device" : "a device is present";
  // The runtime says "driver version is insufficient" also where there is no driver at all: say which.
  if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice) {
    std::error_code ec;
    if (!std::filesystem::exists("/dev/nvidiactl", ec))
      return std::string("no NVIDIA driver or GPU on this machine, ") + cudaGetErrorName(err);
    if (err == cudaErrorInsufficientDriver) {
      // The static runtime reports a driver library that does not load the same way as an old one.
      if (void* driver = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
        ::dlclose(driver);
        return std::string("the NVIDIA driver is older than this binary's CUDA runtime, ") + cudaGetErrorName(err);
      }
      const char* why = ::dlerror();
      return std::string("the NVIDIA driver library libcuda.so.1 does not load (") + (why ? why : "no reason given") + "), " +
             cudaGetErrorName(err);
    }
  }
  return std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
}

/// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)".
inline std::string device_description(int device = 0) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties", __FILE__, __LINE__);
  return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs)";
}

}  // namespace spikefuse::cuda

#define SF_CUDA_CHECK(call) ::spikefuse::cuda::check((call), #call, __FILE__, __LINE__)
