// The optimizer update of every parameter in one kernel: the parameters, gradients and state are each one flat device vector.
#pragma once

#include <cuda_runtime.h>

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/train/optimizer.hpp"

namespace spikefuse::cuda {

struct optimizer_op {
  optimizer_step step;
  float* params;
  const float* grads;
  float* slot0;
  float* slot1;
  __device__ void operator()(long long i) const {
    update_parameter(step, static_cast<std::size_t>(i), params, grads, slot0, slot1);
  }
};

inline void optimizer_update(const context& ctx, const optimizer_step& step, long long n, float* params,
                             const float* grads, float* slot0, float* slot1) {
  launch_elementwise(ctx, n, optimizer_op{step, params, grads, slot0, slot1});
}

}  // namespace spikefuse::cuda
