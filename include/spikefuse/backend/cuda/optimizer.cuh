// The optimizer update of every parameter in one kernel: the parameters, gradients and state are each one flat device vector.
#pragma once

#include <cuda_runtime.h>

#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/train/optimizer.hpp"

namespace spikefuse::cuda {

template <optimizer_kind Kind, bool Momentum>
struct optimizer_op {
  optimizer_step step;
  float* params;
  const float* grads;
  float* slot0;
  float* slot1;
  __device__ void operator()(long long i) const {
    update_parameter_as<Kind, Momentum>(step, static_cast<std::size_t>(i), params, grads, slot0, slot1);
  }
};

/// One kernel per optimizer kind, chosen on the host (no branch on the kind per element).
inline void optimizer_update(const context& ctx, const optimizer_step& step, long long n, float* params,
                             const float* grads, float* slot0, float* slot1) {
  with_update_kind(step, [&]<optimizer_kind Kind, bool Momentum>() {
    launch_elementwise(ctx, n, optimizer_op<Kind, Momentum>{step, params, grads, slot0, slot1});
  });
}

}  // namespace spikefuse::cuda
