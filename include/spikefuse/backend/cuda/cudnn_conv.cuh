// cuDNN convolutions for the CUDA backend: z = W ⋆ x (+ b) forward; dW += ∂z ⋆ x̂ (β = 1), ∂x = Wᵀ ⋆ ∂z backward, NCHW fp32.
//
// The alternative to the im2col + cuBLAS lowering of conv2d.cuh, chosen per model with
// model_options::convolutions. cuDNN is loaded at run time (dlopen of libcudnn.so.9), not linked:
// every binary still starts on a machine without cuDNN, and only a model that asks for it fails,
// with the reason. Only deterministic algorithms are used (the backend's rule: no float atomics, the
// same result on every run and in every graph replay), in fp32 with FMA-only kernels
// (CUDNN_FMA_MATH, no TF32) unless the model's precision is tf32. Each (geometry, batch) gets its
// descriptors and algorithms once, from cuDNN's heuristics (no trial runs: nothing is allocated or
// timed), in prepare(), which the model calls from reset_state, outside any graph capture; all of
// them share one workspace owned by this object.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

#include "spikefuse/backend/cuda/blas.cuh"
#include "spikefuse/backend/cuda/device_memory.cuh"
#include "spikefuse/backend/cuda/error.cuh"
#include "spikefuse/layer/conv_geometry.hpp"

namespace spikefuse::cuda {

/// How the CUDA backend runs Conv2d / WSConv2d.
enum class convolution_backend {
  im2col,  // im2col kernel + cuBLAS GEMM per chunk of samples (conv2d.cuh): the CPU backend's lowering
  cudnn,   // cuDNN's deterministic algorithms, loaded at run time
};

inline convolution_backend parse_convolution_backend(std::string_view s) {
  if (s == "im2col") return convolution_backend::im2col;
  if (s == "cudnn") return convolution_backend::cudnn;
  throw std::invalid_argument("unknown convolution backend '" + std::string(s) + "' (choose im2col or cudnn)");
}

}  // namespace spikefuse::cuda

// SPIKEFUSE_NO_CUDNN builds the stand-in below even where cudnn.h exists (the build without cuDNN's
// headers, compiled and tested in CI by tests/cuda/test_no_cudnn.cu).
#if __has_include(<cudnn.h>) && !defined(SPIKEFUSE_NO_CUDNN)
#define SPIKEFUSE_HAS_CUDNN 1
#include <cudnn.h>
#include <dlfcn.h>

namespace spikefuse::cuda {

/// The cuDNN entry points spikefuse uses, resolved from libcudnn.so.9 on first use.
class cudnn_library {
 public:
#define SF_CUDNN_ENTRY(name) decltype(&::name) name = nullptr;
#define SF_CUDNN_ENTRIES(X)                                                                                              \
  X(cudnnGetVersion)                                                                                                     \
  X(cudnnGetErrorString)                                                                                                 \
  X(cudnnCreate)                                                                                                         \
  X(cudnnDestroy)                                                                                                        \
  X(cudnnSetStream)                                                                                                      \
  X(cudnnCreateTensorDescriptor)                                                                                         \
  X(cudnnSetTensor4dDescriptor)                                                                                          \
  X(cudnnDestroyTensorDescriptor)                                                                                        \
  X(cudnnCreateFilterDescriptor)                                                                                         \
  X(cudnnSetFilter4dDescriptor)                                                                                          \
  X(cudnnDestroyFilterDescriptor)                                                                                        \
  X(cudnnCreateConvolutionDescriptor)                                                                                    \
  X(cudnnSetConvolution2dDescriptor)                                                                                     \
  X(cudnnSetConvolutionMathType)                                                                                         \
  X(cudnnDestroyConvolutionDescriptor)                                                                                   \
  X(cudnnGetConvolutionForwardAlgorithm_v7)                                                                              \
  X(cudnnGetConvolutionBackwardDataAlgorithm_v7)                                                                         \
  X(cudnnGetConvolutionBackwardFilterAlgorithm_v7)                                                                       \
  X(cudnnGetConvolutionForwardWorkspaceSize)                                                                             \
  X(cudnnGetConvolutionBackwardDataWorkspaceSize)                                                                        \
  X(cudnnGetConvolutionBackwardFilterWorkspaceSize)                                                                      \
  X(cudnnConvolutionForward)                                                                                             \
  X(cudnnConvolutionBackwardData)                                                                                        \
  X(cudnnConvolutionBackwardFilter)                                                                                      \
  X(cudnnAddTensor)
  SF_CUDNN_ENTRIES(SF_CUDNN_ENTRY)
#undef SF_CUDNN_ENTRY

  /// The process's one copy; throws cuda_error saying why when cuDNN cannot be loaded.
  static const cudnn_library& get() {
    static const cudnn_library library;
    if (!library.error_.empty()) throw cuda_error(library.error_);
    return library;
  }

 private:
  cudnn_library() {
    std::string why;  // the first file's reason: a libcudnn.so.9 that is there but lacks a dependency says so
    for (const char* file : {"libcudnn.so.9", "libcudnn.so"}) {
      handle_ = dlopen(file, RTLD_NOW | RTLD_LOCAL);
      if (handle_) break;
      if (const char* e = dlerror(); e && why.empty()) why = e;
    }
    if (!handle_) {
      error_ = std::string("spikefuse: the cuDNN convolutions need libcudnn.so.9 on the library path (") +
               (why.empty() ? "not found" : why) + "); use model_options::convolutions = im2col, or install cuDNN 9";
      return;
    }
#define SF_CUDNN_RESOLVE(name)                                                         \
  name = reinterpret_cast<decltype(name)>(dlsym(handle_, #name));                      \
  if (!name) {                                                                         \
    error_ = "spikefuse: " #name " is missing from the loaded cuDNN (cuDNN 9 needed)"; \
    return;                                                                            \
  }
    SF_CUDNN_ENTRIES(SF_CUDNN_RESOLVE)
#undef SF_CUDNN_RESOLVE
    if (cudnnGetVersion() < 90000) error_ = "spikefuse: cuDNN " + std::to_string(cudnnGetVersion()) + " found; cuDNN 9 needed";
  }
#undef SF_CUDNN_ENTRIES

  void* handle_ = nullptr;  // never closed: the library lives as long as the process
  std::string error_;
};

inline void check(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw cuda_error(std::string("spikefuse: cuDNN error ") + cudnn_library::get().cudnnGetErrorString(status) + " in " + call +
                     " at " + file + ":" + std::to_string(line));
}

/// Convolutions through cuDNN, bound to one stream.
class cudnn_convolutions {
 public:
  /// The workspace every algorithm must fit; algorithms that need more are passed over.
  static constexpr std::size_t workspace_bytes = 64u << 20;

  cudnn_convolutions(cudaStream_t stream, gemm_precision precision)
      : lib_(&cudnn_library::get()), handle_(lib_), workspace_(workspace_bytes), precision_(precision) {
    SF_CUDA_CHECK(lib_->cudnnSetStream(handle_.get(), stream));
    warm_up(stream);
  }
  cudnn_convolutions(const cudnn_convolutions&) = delete;
  cudnn_convolutions& operator=(const cudnn_convolutions&) = delete;

  std::size_t allocated_bytes() const { return workspace_.bytes(); }
  int version() const { return static_cast<int>(lib_->cudnnGetVersion()); }

  /// Descriptors and algorithms for (g, batch), made now if they are new: called outside graph
  /// capture, so that the steps captured later only look them up.
  void prepare(const conv_geometry& g, int batch) const { (void)plan_for(g, batch); }

  /// out = W ⋆ in (+ bias): NCHW, overwrites out.
  void forward(const conv_geometry& g, int batch, const float* in, const float* weight, const float* bias, float* out) const {
    const plan& p = plan_for(g, batch);
    const float one = 1.f, zero = 0.f;
    SF_CUDA_CHECK(lib_->cudnnConvolutionForward(handle_.get(), &one, p.input, in, p.filter, weight, p.forward.conv, p.forward.algo,
                                                workspace_.data(), workspace_.bytes(), &zero, p.output, out));
    if (bias) SF_CUDA_CHECK(lib_->cudnnAddTensor(handle_.get(), &one, p.bias, bias, &one, p.output, out));
  }

  /// grad_weight += ∂out ⋆ (c·kept) (parameter gradients ACCUMULATE, β = 1; c = kept_factor, as α);
  /// grad_in (if not null) = Wᵀ ⋆ ∂out.
  void backward(const conv_geometry& g, int batch, const float* kept, float kept_factor, const float* grad_out,
                const float* weight, float* grad_weight, float* grad_in) const {
    const plan& p = plan_for(g, batch);
    const float one = 1.f, zero = 0.f;
    SF_CUDA_CHECK(lib_->cudnnConvolutionBackwardFilter(handle_.get(), &kept_factor, p.input, kept, p.output, grad_out,
                                                       p.backward_filter.conv, p.backward_filter.algo, workspace_.data(),
                                                       workspace_.bytes(), &one, p.filter, grad_weight));
    if (grad_in)
      SF_CUDA_CHECK(lib_->cudnnConvolutionBackwardData(handle_.get(), &one, p.filter, weight, p.output, grad_out,
                                                       p.backward_data.conv, p.backward_data.algo, workspace_.data(),
                                                       workspace_.bytes(), &zero, p.input, grad_in));
  }

 private:
  /// The cuDNN handle, destroyed with this object even when its constructor throws later on.
  class handle {
   public:
    explicit handle(const cudnn_library* lib) : lib_(lib) { SF_CUDA_CHECK(lib_->cudnnCreate(&h_)); }
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() { lib_->cudnnDestroy(h_); }
    cudnnHandle_t get() const { return h_; }

   private:
    const cudnn_library* lib_;
    cudnnHandle_t h_{};
  };

  /// One direction's algorithm and its convolution descriptor, which carries the math type the
  /// algorithm was ranked with (in tf32 the heuristics may rank tensor-op and FMA kernels together).
  template <class Algo>
  struct direction {
    cudnnConvolutionDescriptor_t conv{};
    Algo algo{};
  };

  /// Descriptors and algorithms of one (geometry, batch).
  struct plan {
    const cudnn_library* lib;
    cudnnTensorDescriptor_t input{}, output{}, bias{};
    cudnnFilterDescriptor_t filter{};
    direction<cudnnConvolutionFwdAlgo_t> forward{};
    direction<cudnnConvolutionBwdDataAlgo_t> backward_data{};
    direction<cudnnConvolutionBwdFilterAlgo_t> backward_filter{};
    explicit plan(const cudnn_library* l) : lib(l) {}
    plan(const plan&) = delete;
    plan& operator=(const plan&) = delete;
    ~plan() {
      for (auto c : {forward.conv, backward_data.conv, backward_filter.conv})
        if (c) lib->cudnnDestroyConvolutionDescriptor(c);
      if (filter) lib->cudnnDestroyFilterDescriptor(filter);
      for (auto d : {input, output, bias})
        if (d) lib->cudnnDestroyTensorDescriptor(d);
    }
  };

  using key = std::tuple<int, int, int, int, int, int, int, int, int, int>;

  const plan& plan_for(const conv_geometry& g, int batch) const {
    const key k{g.in_c, g.in_h, g.in_w, g.out_c, g.out_h, g.out_w, g.kernel, g.stride, g.padding, batch};
    auto it = plans_.find(k);
    if (it == plans_.end()) it = plans_.emplace(k, make_plan(g, batch)).first;
    return *it->second;
  }

  std::unique_ptr<plan> make_plan(const conv_geometry& g, int batch) const {
    // cudnnSetTensor4dDescriptor's tensors index in 32 bits: say so before cuDNN refuses it.
    const long long largest = static_cast<long long>(batch) * std::max(g.in_c * g.in_pixels(), g.out_c * g.out_pixels());
    if (largest >= (1LL << 31))
      throw std::length_error("spikefuse: a convolution's input or output of " + std::to_string(largest) +
                              " floats is past cuDNN's 2^31-element tensors; use a smaller batch or "
                              "model_options::convolutions = im2col");
    auto p = std::make_unique<plan>(lib_);
    SF_CUDA_CHECK(lib_->cudnnCreateTensorDescriptor(&p->input));
    SF_CUDA_CHECK(lib_->cudnnCreateTensorDescriptor(&p->output));
    SF_CUDA_CHECK(lib_->cudnnCreateTensorDescriptor(&p->bias));
    SF_CUDA_CHECK(lib_->cudnnCreateFilterDescriptor(&p->filter));
    SF_CUDA_CHECK(lib_->cudnnSetTensor4dDescriptor(p->input, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, batch, g.in_c, g.in_h, g.in_w));
    SF_CUDA_CHECK(lib_->cudnnSetTensor4dDescriptor(p->output, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, batch, g.out_c, g.out_h, g.out_w));
    SF_CUDA_CHECK(lib_->cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, g.out_c, 1, 1));
    SF_CUDA_CHECK(lib_->cudnnSetFilter4dDescriptor(p->filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g.out_c, g.in_c, g.kernel, g.kernel));
    const cudnnMathType_t math = precision_ == gemm_precision::tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    for (auto* c : {&p->forward.conv, &p->backward_data.conv, &p->backward_filter.conv}) {
      SF_CUDA_CHECK(lib_->cudnnCreateConvolutionDescriptor(c));
      // Cross-correlation, as PyTorch's Conv2d and the im2col lowering compute.
      SF_CUDA_CHECK(lib_->cudnnSetConvolution2dDescriptor(*c, g.padding, g.padding, g.stride, g.stride, 1, 1,
                                                          CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
      SF_CUDA_CHECK(lib_->cudnnSetConvolutionMathType(*c, math));
    }
    // In fp32 only the GEMM-like algorithms: FFT and Winograd are deterministic and FMA-only too, but
    // round differently enough to move spikes across the threshold against the CPU backend.
    const cudnnConvolutionDescriptor_t fwd = p->forward.conv, bwd_data = p->backward_data.conv, bwd_filter = p->backward_filter.conv;
    p->forward.algo = choose<cudnnConvolutionFwdAlgoPerf_t>(
        "forward", math, fwd,
        [&](int n, int* found, cudnnConvolutionFwdAlgoPerf_t* perf) {
          return lib_->cudnnGetConvolutionForwardAlgorithm_v7(handle_.get(), p->input, p->filter, fwd, p->output, n, found, perf);
        },
        [](cudnnConvolutionFwdAlgo_t a) {
          return a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
                 a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
        },
        [&](cudnnConvolutionFwdAlgo_t a, std::size_t* bytes) {
          return lib_->cudnnGetConvolutionForwardWorkspaceSize(handle_.get(), p->input, p->filter, fwd, p->output, a, bytes);
        });
    p->backward_data.algo = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
        "backward data", math, bwd_data,
        [&](int n, int* found, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
          return lib_->cudnnGetConvolutionBackwardDataAlgorithm_v7(handle_.get(), p->filter, p->output, bwd_data, p->input, n, found,
                                                                   perf);
        },
        [](cudnnConvolutionBwdDataAlgo_t a) { return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1; },
        [&](cudnnConvolutionBwdDataAlgo_t a, std::size_t* bytes) {
          return lib_->cudnnGetConvolutionBackwardDataWorkspaceSize(handle_.get(), p->filter, p->output, bwd_data, p->input, a, bytes);
        });
    p->backward_filter.algo = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
        "backward filter", math, bwd_filter,
        [&](int n, int* found, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
          return lib_->cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle_.get(), p->input, p->output, bwd_filter, p->filter, n,
                                                                     found, perf);
        },
        [](cudnnConvolutionBwdFilterAlgo_t a) { return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1; },
        [&](cudnnConvolutionBwdFilterAlgo_t a, std::size_t* bytes) {
          return lib_->cudnnGetConvolutionBackwardFilterWorkspaceSize(handle_.get(), p->input, p->output, bwd_filter, p->filter, a,
                                                                      bytes);
        });
    return p;
  }

  /// One small convolution each way, run at once: cuDNN loads its sub-libraries and kernels on first
  /// use, which must not happen for the first time inside a graph capture (as warm_up_blas does for
  /// cuBLAS).
  void warm_up(cudaStream_t stream) const {
    const conv_geometry g{2, 4, 4, 2, 4, 4, 3, 1, 1};
    device_array<float> x(2 * 16), w(2 * 2 * 9), y(2 * 16), dw(2 * 2 * 9), dx(2 * 16), bias(2);
    forward(g, 1, x.data(), w.data(), bias.data(), y.data());
    backward(g, 1, x.data(), 1.f, y.data(), w.data(), dw.data(), dx.data());
    SF_CUDA_CHECK(cudaStreamSynchronize(stream));
    plans_.clear();
  }

  /// The heuristics' best algorithm that is deterministic, fits the workspace (as cuDNN reports it
  /// for that algorithm) and, in fp32, runs FMA kernels only (no TF32) and is one of `fp32_allowed`.
  /// `conv` is left with the math type the chosen algorithm was ranked with, as PyTorch sets it: in
  /// tf32 a tensor-op algorithm runs tensor-op kernels only on a descriptor that allows them.
  template <class Perf, class Query, class Allowed, class Workspace>
  decltype(Perf::algo) choose(const char* which, cudnnMathType_t math, cudnnConvolutionDescriptor_t conv, Query&& query,
                              Allowed&& fp32_allowed, Workspace&& workspace_of) const {
    constexpr int capacity = 16;
    Perf perf[capacity];
    int found = 0;
    SF_CUDA_CHECK(query(capacity, &found, perf));
    for (int i = 0; i < found; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].determinism != CUDNN_DETERMINISTIC) continue;
      if (math == CUDNN_FMA_MATH && (perf[i].mathType != CUDNN_FMA_MATH || !fp32_allowed(perf[i].algo))) continue;
      // ALLOW_CONVERSION would run fp32 data through fp16 tensor cores: neither fp32 nor tf32.
      if (perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
      SF_CUDA_CHECK(lib_->cudnnSetConvolutionMathType(conv, perf[i].mathType));
      std::size_t bytes = 0;
      if (workspace_of(perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > workspace_.bytes()) continue;
      return perf[i].algo;
    }
    throw cuda_error(std::string("spikefuse: cuDNN offers no deterministic ") + which +
                     " convolution algorithm within the workspace; use model_options::convolutions = im2col");
  }

  const cudnn_library* lib_;
  handle handle_;
  device_array<unsigned char> workspace_;
  gemm_precision precision_;
  mutable std::map<key, std::unique_ptr<plan>> plans_;  // last: its descriptors go before the handle
};

}  // namespace spikefuse::cuda

#else  // built without cuDNN's headers: the option exists, and says why it cannot run

namespace spikefuse::cuda {

class cudnn_convolutions {
 public:
  cudnn_convolutions(cudaStream_t, gemm_precision) {
    throw cuda_error("spikefuse: this build has no cuDNN headers (cudnn.h); use model_options::convolutions = im2col");
  }
  std::size_t allocated_bytes() const { return 0; }
  int version() const { return 0; }
  void prepare(const conv_geometry&, int) const {}
  void forward(const conv_geometry&, int, const float*, const float*, const float*, float*) const {}
  void backward(const conv_geometry&, int, const float*, float, const float*, const float*, float*, float*) const {}
};

}  // namespace spikefuse::cuda

#endif
