// A CUDA stream, and CUDA graphs of one captured time step: capture once per shape, replay for every step and batch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "spikefuse/backend/cuda/error.cuh"

namespace spikefuse::cuda {

class stream {
 public:
  stream() { SF_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { cudaStreamDestroy(s_); }
  cudaStream_t get() const { return s_; }
  void synchronize() const { SF_CUDA_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_{};
};

class event {
 public:
  event() { SF_CUDA_CHECK(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming)); }
  event(const event&) = delete;
  event& operator=(const event&) = delete;
  ~event() { cudaEventDestroy(e_); }
  void record(cudaStream_t s) { SF_CUDA_CHECK(cudaEventRecord(e_, s)); }
  void synchronize() const { SF_CUDA_CHECK(cudaEventSynchronize(e_)); }

 private:
  cudaEvent_t e_{};
};

/// An instantiated graph: what the stream ran between begin_capture and end_capture, replayable.
class graph_exec {
 public:
  graph_exec() = default;
  graph_exec(graph_exec&& o) noexcept : exec_(std::exchange(o.exec_, nullptr)) {}
  graph_exec& operator=(graph_exec&& o) noexcept {
    std::swap(exec_, o.exec_);
    return *this;
  }
  graph_exec(const graph_exec&) = delete;
  graph_exec& operator=(const graph_exec&) = delete;
  ~graph_exec() {
    if (exec_) cudaGraphExecDestroy(exec_);
  }

  /// Runs `enqueue(stream)` under stream capture and instantiates the result. Kernel arguments and
  /// buffer addresses are frozen: everything that changes between replays lives in device memory.
  template <class Enqueue>
  static graph_exec capture(cudaStream_t s, Enqueue&& enqueue, std::size_t* nodes = nullptr) {
    SF_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    cudaGraph_t graph = nullptr;
    try {
      enqueue(s);
    } catch (...) {
      cudaStreamEndCapture(s, &graph);  // leave the stream usable before reporting the first error
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    SF_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    if (nodes) {  // what the replay really runs: a cuBLAS GEMM may be more than one kernel
      *nodes = 0;
      SF_CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, nodes));
    }
    graph_exec g;
    const cudaError_t err = cudaGraphInstantiate(&g.exec_, graph, 0);
    cudaGraphDestroy(graph);
    SF_CUDA_CHECK(err);
    return g;
  }

  void launch(cudaStream_t s) const { SF_CUDA_CHECK(cudaGraphLaunch(exec_, s)); }
  explicit operator bool() const { return exec_ != nullptr; }

 private:
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace spikefuse::cuda
