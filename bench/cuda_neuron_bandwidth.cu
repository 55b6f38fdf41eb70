// CUDA benchmark: memory bandwidth of the fused LIF kernels (OTTTLIF, SLTTLIF, fp32, training phase) against a device-to-device copy and an unfused one-kernel-per-op sequence, 64K..64M neurons.
//
//   cuda_neuron_bandwidth [out.json]        (default neuron_bandwidth.json)
//
// Method (DESIGN.md §5): CUDA events; 5 warm-up batches, then 30 timed batches, median. A batch
// runs the kernel on consecutive buffer sets (up to 192 launches), rotating through enough
// independent sets that any set is revisited only after >= 256 MiB of other traffic (H100 L2:
// 50 MB), so no timing is an L2 hit. A
// short spin kernel precedes every timed batch, so the host has enqueued the whole batch before the
// first timed kernel starts: what is timed is GPU time, not launch latency. Data are random, not
// zeros. GB/s = 10^9 bytes/s of the bytes the fused kernel must move (each operand read or written
// once); the unfused sequence is also reported against that useful byte count.
//
// Before timing, the fused kernels are checked against the unfused sequence at 1M neurons (spikes
// identical except within 1e-6 of θ; v, trace, ψ, ∂x within 1e-6 relative); a mismatch exits 1.
// Without a GPU: prints "no CUDA device: nothing to benchmark" and exits 0.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_report.hpp"
#include "spikefuse/backend/cuda/device_memory.cuh"
#include "spikefuse/backend/cuda/error.cuh"
#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/cuda/lif.cuh"
#include "spikefuse/backend/cuda/stream.cuh"
#include "spikefuse/neuron/lif.hpp"
#include "spikefuse/neuron/surrogate.hpp"

namespace sf = spikefuse;
namespace sfc = spikefuse::cuda;

namespace {

constexpr int kWarmup = 5;
constexpr int kReps = 30;
constexpr long long kRotationBytes = 256ll << 20;   // traffic between two visits of a buffer set: > 5x L2
constexpr int kMaxKernelsPerBatch = 192;            // stay well inside the launch queue
constexpr long long kCheckN = 1ll << 20;
constexpr float kThresholdBand = 1e-6f;
constexpr float kRelTol = 1e-6f;
constexpr long long kTargetMinN = 1ll << 24;
constexpr double kTargetPct = 90.0;
constexpr float kAlpha = 4.f;  // the unfused sequence is written for Sigmoid(4), the neurons' default

// ---- data ---------------------------------------------------------------------------------------

/// splitmix64 of (i, seed), top 24 bits as a float in [0, 1): a different stream per buffer.
__device__ float hash_uniform(unsigned long long i, unsigned long long seed) {
  unsigned long long z = i + (seed + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.f / 16777216.f);
}

__global__ void fill_uniform_kernel(long long n, float* out, unsigned long long seed, float lo, float hi) {
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    out[i] = lo + (hi - lo) * hash_uniform(static_cast<unsigned long long>(i), seed);
}

void fill_uniform(cudaStream_t s, float* out, long long n, unsigned long long seed, float lo, float hi) {
  const unsigned blocks = std::min(sfc::blocks_for(n), 1u << 16);
  fill_uniform_kernel<<<blocks, sfc::threads_per_block, 0, s>>>(n, out, seed, lo, hi);
  SF_CUDA_CHECK(cudaGetLastError());
}

/// Keeps the GPU busy for `ns` nanoseconds while the host enqueues the batch that follows it.
__global__ void spin_kernel(unsigned long long ns) {
  unsigned long long start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < ns);
}

/// Every operand of the fused and unfused kernels, `sets` independent copies of n floats each
/// (set k is [k·n, (k+1)·n) of every array; n is a power of two, so every set stays 256-byte aligned).
struct neuron_buffers {
  long long n;
  int sets;
  sfc::device_array<float> x, v, trace, spike, psi, grad_spike, grad_x;
  sfc::device_array<float> h, d, sig, tmp;  // temporaries of the unfused sequence
  static constexpr int arrays = 11;

  neuron_buffers(long long n_, int sets_)
      : n(n_), sets(sets_), x(total()), v(total()), trace(total()), spike(total()), psi(total()), grad_spike(total()),
        grad_x(total()), h(total()), d(total()), sig(total()), tmp(total()) {}
  std::size_t total() const { return static_cast<std::size_t>(n) * static_cast<std::size_t>(sets); }
  float* at(const sfc::device_array<float>& a, int set) const { return a.data() + static_cast<long long>(set) * n; }

  /// Ranges the neuron sees in training: x ∈ [0, 2), v ∈ [0, 1) (about half the neurons fire), trace
  /// ∈ [0, 2), ∂s ∈ [−1, 1); outputs and temporaries are filled too, so nothing starts as zeros.
  void randomise(cudaStream_t s, unsigned long long seed) {
    const long long count = static_cast<long long>(total());
    fill_uniform(s, x.data(), count, seed + 0, 0.f, 2.f);
    fill_uniform(s, v.data(), count, seed + 1, 0.f, 1.f);
    fill_uniform(s, trace.data(), count, seed + 2, 0.f, 2.f);
    fill_uniform(s, spike.data(), count, seed + 3, 0.f, 1.f);
    fill_uniform(s, psi.data(), count, seed + 4, 0.f, 1.f);
    fill_uniform(s, grad_spike.data(), count, seed + 5, -1.f, 1.f);
    fill_uniform(s, grad_x.data(), count, seed + 6, -1.f, 1.f);
    fill_uniform(s, h.data(), count, seed + 7, 0.f, 1.f);
    fill_uniform(s, d.data(), count, seed + 8, 0.f, 1.f);
    fill_uniform(s, sig.data(), count, seed + 9, 0.f, 1.f);
    fill_uniform(s, tmp.data(), count, seed + 10, 0.f, 1.f);
  }
};

// ---- the unfused sequence: one elementwise kernel per tensor op, as eager PyTorch runs the neuron --

struct times_c {
  float c;
  __device__ float operator()(float a) const { return a * c; }
};
struct div_c {
  float c;
  __device__ float operator()(float a) const { return a / c; }
};
struct minus_c {
  float c;
  __device__ float operator()(float a) const { return a - c; }
};
struct c_minus {
  float c;
  __device__ float operator()(float a) const { return c - a; }
};
struct heaviside {
  __device__ float operator()(float a) const { return a >= 0.f ? 1.f : 0.f; }
};
struct sigmoid_of_scaled {
  float alpha;
  __device__ float operator()(float a) const { return 1.f / (1.f + expf(-(alpha * a))); }
};
struct plus {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct minus {
  __device__ float operator()(float a, float b) const { return a - b; }
};
struct product {
  __device__ float operator()(float a, float b) const { return a * b; }
};
struct scaled_product {
  float c;
  __device__ float operator()(float a, float b) const { return a * b * c; }
};

// No __restrict__: PyTorch's in-place ops (h += x) alias input and output.
template <class F>
struct map1 {
  const float* a;
  float* out;
  F f;
  __device__ void operator()(long long i) const { out[i] = f(a[i]); }
};
template <class F>
struct map2 {
  const float* a;
  const float* b;
  float* out;
  F f;
  __device__ void operator()(long long i) const { out[i] = f(a[i], b[i]); }
};

/// Issues the elementwise kernels and counts them and the floats they move.
struct eager {
  const sfc::context& ctx;
  long long n;
  int kernels = 0;
  long long floats_moved = 0;

  template <class F>
  void unary(const float* a, float* out, F f) {
    sfc::launch_elementwise(ctx, n, map1<F>{a, out, f});
    ++kernels;
    floats_moved += 2 * n;
  }
  template <class F>
  void binary(const float* a, const float* b, float* out, F f) {
    sfc::launch_elementwise(ctx, n, map2<F>{a, b, out, f});
    ++kernels;
    floats_moved += 3 * n;
  }
};

struct unfused_scratch {
  float *h, *d, *sig, *tmp;
};

/// The forward step of lif::fused_forward (phase::train: ψ kept, OTTT trace advanced), op by op in
/// SpikingJelly's order, so that the results match the fused kernel bit for bit. d = h − θ is left
/// in scratch.d (the correctness check reads it).
template <class Neuron>
eager unfused_forward(const sfc::context& ctx, long long n, const float* x, float* v, float* trace, float* spike, float* psi,
                      const unfused_scratch& w) {
  using K = sf::lif_constants<Neuron::params>;
  eager e{ctx, n};
  if constexpr (K::decay_input) {  // h = v + (x − (v − V_r)) / τ
    if constexpr (K::charge_rest != 0.f) {
      e.unary(v, w.tmp, minus_c{K::charge_rest});
      e.binary(x, w.tmp, w.h, minus{});
    } else {
      e.binary(x, v, w.h, minus{});
    }
    e.unary(w.h, w.h, div_c{K::tau});
    e.binary(v, w.h, w.h, plus{});
  } else {
    if constexpr (K::charge_rest == 0.f) {
      // SpikingJelly's v·(1 − 1/τ) + x; for τ = 2 equal to the fused v − v/τ + x bit for bit.
      e.unary(v, w.h, times_c{K::trace_decay});
    } else {
      e.unary(v, w.tmp, minus_c{K::charge_rest});
      e.unary(w.tmp, w.tmp, div_c{K::tau});
      e.binary(v, w.tmp, w.h, minus{});
    }
    e.binary(w.h, x, w.h, plus{});
  }
  e.unary(w.h, w.d, minus_c{K::threshold});
  e.unary(w.d, spike, heaviside{});
  e.unary(w.d, w.sig, sigmoid_of_scaled{kAlpha});  // ψ = (1 − σ(αd))·σ(αd)·α
  e.unary(w.sig, w.tmp, c_minus{1.f});
  e.binary(w.tmp, w.sig, psi, scaled_product{kAlpha});
  if constexpr (K::soft_reset) {  // v = h − s·θ
    e.unary(spike, w.tmp, times_c{K::threshold});
    e.binary(w.h, w.tmp, v, minus{});
  } else {  // v = s·V_r + (1 − s)·h
    e.unary(spike, w.sig, times_c{K::hard_reset_value});
    e.unary(spike, w.tmp, c_minus{1.f});
    e.binary(w.tmp, w.h, w.tmp, product{});
    e.binary(w.sig, w.tmp, v, plus{});
  }
  if constexpr (Neuron::keeps_trace) {  // â = â·(1 − 1/τ) + s
    e.unary(trace, w.tmp, times_c{K::trace_decay});
    e.binary(w.tmp, spike, trace, plus{});
  }
  return e;
}

/// ∂x = ∂s·ψ (/τ with decay_input).
template <class Neuron>
eager unfused_backward(const sfc::context& ctx, long long n, const float* grad_spike, const float* psi, float* grad_x) {
  using K = sf::lif_constants<Neuron::params>;
  eager e{ctx, n};
  e.binary(grad_spike, psi, grad_x, product{});
  if constexpr (K::decay_input) e.unary(grad_x, grad_x, div_c{K::tau});
  return e;
}

// ---- the fused kernels under test ----------------------------------------------------------------

// Features = 1 and no bias: the bias index is then never formed; every element is one neuron.
template <class Neuron>
void fused_forward(const sfc::context& ctx, long long n, const float* x, float* v, float* trace, float* spike, float* psi) {
  sfc::lif_forward<Neuron, 1>(ctx, sf::phase::train, n, x, nullptr, v, Neuron::keeps_trace ? trace : nullptr, spike, {psi, nullptr});
}
template <class Neuron>
void fused_backward(const sfc::context& ctx, long long n, const float* grad_spike, const float* psi, float* grad_x) {
  sfc::lif_backward<Neuron, 1>(ctx, static_cast<int>(n), grad_spike, {psi, nullptr, nullptr}, grad_x, nullptr, nullptr, nullptr);
}

/// Bytes each fused kernel must move: forward reads x, v (, â) and writes s, v, ψ (, â); backward
/// reads ∂s, ψ and writes ∂x.
template <class Neuron>
constexpr long long fused_forward_bytes(long long n) {
  return (Neuron::keeps_trace ? 7 : 5) * n * static_cast<long long>(sizeof(float));
}
constexpr long long fused_backward_bytes(long long n) { return 3 * n * static_cast<long long>(sizeof(float)); }

// ---- timing -------------------------------------------------------------------------------------

class gpu_timer {
 public:
  explicit gpu_timer(cudaStream_t s) : s_(s) {
    SF_CUDA_CHECK(cudaEventCreate(&start_));
    SF_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  gpu_timer(const gpu_timer&) = delete;
  gpu_timer& operator=(const gpu_timer&) = delete;
  ~gpu_timer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }

  /// Median GPU time in ms of one `launch(set)`, which enqueues `kernels_per_call` operations.
  template <class Launch>
  double median_ms(int sets, int kernels_per_call, Launch&& launch) {
    const int batch = std::clamp(kMaxKernelsPerBatch / kernels_per_call, 1, sets);
    int next = 0;
    const auto run_batch = [&] {
      for (int b = 0; b < batch; ++b) {
        launch(next);
        next = (next + 1) % sets;
      }
    };
    for (int w = 0; w < kWarmup; ++w) run_batch();
    // 10 µs of spin per queued operation covers a host that enqueues one every few µs; if the host
    // was slower than the spin, the GPU may have idled inside the timed range: redo with more spin.
    double spin_ns = 1e4 * batch * kernels_per_call;
    std::vector<double> ms;
    for (int retries = 0; static_cast<int>(ms.size()) < kReps;) {
      const auto t0 = std::chrono::steady_clock::now();
      spin_kernel<<<1, 1, 0, s_>>>(static_cast<unsigned long long>(spin_ns));
      SF_CUDA_CHECK(cudaGetLastError());
      SF_CUDA_CHECK(cudaEventRecord(start_, s_));
      run_batch();
      const double enqueue_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      SF_CUDA_CHECK(cudaEventRecord(stop_, s_));
      SF_CUDA_CHECK(cudaEventSynchronize(stop_));
      float elapsed = 0.f;
      SF_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start_, stop_));
      if (enqueue_ns > 0.8 * spin_ns && retries < 10) {
        spin_ns = 2.0 * enqueue_ns;
        ++retries;
        continue;
      }
      ms.push_back(static_cast<double>(elapsed) / batch);
    }
    return bench::median(ms);
  }

 private:
  cudaStream_t s_;
  cudaEvent_t start_{}, stop_{};
};

double gbps(long long bytes, double ms) { return ms > 0 ? static_cast<double>(bytes) / (ms * 1e6) : 0.0; }

// ---- correctness check ---------------------------------------------------------------------------

struct check_result {
  const char* neuron = "";
  long long n = 0;
  long long spikes = 0;             // spikes fired (sanity: the data are not trivial)
  long long spike_mismatch = 0;     // spike differs and |h − θ| > band
  long long near_threshold_flips = 0;
  long long v_mismatch = 0, trace_mismatch = 0, psi_mismatch = 0, grad_mismatch = 0;
  bool passed() const {
    const bool nontrivial = spikes > 0 && spikes < n;  // all-silent or all-firing data would test nothing
    return nontrivial && spike_mismatch + v_mismatch + trace_mismatch + psi_mismatch + grad_mismatch == 0;
  }
};

std::vector<float> download(const float* p, long long n) {
  std::vector<float> h(static_cast<std::size_t>(n));
  SF_CUDA_CHECK(cudaMemcpy(h.data(), p, h.size() * sizeof(float), cudaMemcpyDeviceToHost));
  return h;
}

/// One forward and backward step, fused and unfused, from the same random state.
template <class Neuron>
check_result check_against_unfused(const sfc::context& ctx, const char* name, long long n) {
  neuron_buffers b(n, 1);
  b.randomise(ctx.stream, 1234);
  sfc::device_array<float> v2(b.total()), trace2(b.total()), spike2(b.total()), psi2(b.total()), grad_x2(b.total());
  const std::size_t bytes = b.total() * sizeof(float);
  SF_CUDA_CHECK(cudaMemcpyAsync(v2.data(), b.v.data(), bytes, cudaMemcpyDeviceToDevice, ctx.stream));
  SF_CUDA_CHECK(cudaMemcpyAsync(trace2.data(), b.trace.data(), bytes, cudaMemcpyDeviceToDevice, ctx.stream));

  fused_forward<Neuron>(ctx, n, b.x.data(), b.v.data(), b.trace.data(), b.spike.data(), b.psi.data());
  fused_backward<Neuron>(ctx, n, b.grad_spike.data(), b.psi.data(), b.grad_x.data());
  const unfused_scratch w{b.h.data(), b.d.data(), b.sig.data(), b.tmp.data()};
  unfused_forward<Neuron>(ctx, n, b.x.data(), v2.data(), trace2.data(), spike2.data(), psi2.data(), w);
  unfused_backward<Neuron>(ctx, n, b.grad_spike.data(), psi2.data(), grad_x2.data());
  SF_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));

  const auto s1 = download(b.spike.data(), n), s2 = download(spike2.data(), n), d = download(b.d.data(), n);
  const auto v1 = download(b.v.data(), n), vv2 = download(v2.data(), n);
  const auto t1 = download(b.trace.data(), n), t2 = download(trace2.data(), n);
  const auto p1 = download(b.psi.data(), n), p2 = download(psi2.data(), n);
  const auto g1 = download(b.grad_x.data(), n), g2 = download(grad_x2.data(), n);
  const auto close = [](float a, float want) { return std::fabs(a - want) <= kRelTol * std::max(1.f, std::fabs(want)); };

  check_result r;
  r.neuron = name;
  r.n = n;
  for (std::size_t i = 0; i < s1.size(); ++i) {
    r.spikes += s1[i] != 0.f;
    if (s1[i] != s2[i]) {
      // Past a flipped spike v, ψ and ∂x legitimately differ: nothing more to compare here.
      (std::fabs(d[i]) <= kThresholdBand ? r.near_threshold_flips : r.spike_mismatch) += 1;
      continue;
    }
    r.v_mismatch += !close(v1[i], vv2[i]);
    if constexpr (Neuron::keeps_trace) r.trace_mismatch += !close(t1[i], t2[i]);
    r.psi_mismatch += !close(p1[i], p2[i]);
    r.grad_mismatch += !close(g1[i], g2[i]);
  }
  return r;
}

// ---- one row of results ----------------------------------------------------------------------------

struct row {
  std::string neuron;
  long long n = 0;
  int sets = 0;
  double copy_ms = 0;
  long long fwd_bytes = 0, bwd_bytes = 0;
  double fwd_ms = 0, bwd_ms = 0;
  double unfused_fwd_ms = 0, unfused_bwd_ms = 0;
  int unfused_fwd_kernels = 0, unfused_bwd_kernels = 0;
  long long unfused_fwd_bytes = 0, unfused_bwd_bytes = 0;  // what the sequence actually moves

  long long copy_bytes() const { return 2 * n * static_cast<long long>(sizeof(float)); }
  double copy_gbps() const { return gbps(copy_bytes(), copy_ms); }
  double pct(double g) const { return 100.0 * g / copy_gbps(); }
};

template <class Neuron>
row bench_neuron(const sfc::context& ctx, gpu_timer& timer, const neuron_buffers& b, const char* name, double copy_ms) {
  static_assert(std::is_same_v<typename Neuron::surrogate_type, sf::surrogate::Sigmoid<kAlpha>>,
                "the unfused sequence computes the Sigmoid(4) surrogate");
  const long long n = b.n;
  row r;
  r.neuron = name;
  r.n = n;
  r.sets = b.sets;
  r.copy_ms = copy_ms;
  r.fwd_bytes = fused_forward_bytes<Neuron>(n);
  r.bwd_bytes = fused_backward_bytes(n);
  r.fwd_ms = timer.median_ms(b.sets, 1, [&](int s) {
    fused_forward<Neuron>(ctx, n, b.at(b.x, s), b.at(b.v, s), b.at(b.trace, s), b.at(b.spike, s), b.at(b.psi, s));
  });
  r.bwd_ms = timer.median_ms(b.sets, 1, [&](int s) {
    fused_backward<Neuron>(ctx, n, b.at(b.grad_spike, s), b.at(b.psi, s), b.at(b.grad_x, s));
  });
  const auto unfused_fwd = [&](int s) {
    const unfused_scratch w{b.at(b.h, s), b.at(b.d, s), b.at(b.sig, s), b.at(b.tmp, s)};
    return unfused_forward<Neuron>(ctx, n, b.at(b.x, s), b.at(b.v, s), b.at(b.trace, s), b.at(b.spike, s), b.at(b.psi, s),
                                   w);
  };
  const auto unfused_bwd = [&](int s) {
    return unfused_backward<Neuron>(ctx, n, b.at(b.grad_spike, s), b.at(b.psi, s), b.at(b.grad_x, s));
  };
  const eager fwd_count = unfused_fwd(0), bwd_count = unfused_bwd(0);  // counts (and one more warm-up)
  r.unfused_fwd_kernels = fwd_count.kernels;
  r.unfused_fwd_bytes = fwd_count.floats_moved * static_cast<long long>(sizeof(float));
  r.unfused_bwd_kernels = bwd_count.kernels;
  r.unfused_bwd_bytes = bwd_count.floats_moved * static_cast<long long>(sizeof(float));
  r.unfused_fwd_ms = timer.median_ms(b.sets, r.unfused_fwd_kernels, [&](int s) { unfused_fwd(s); });
  r.unfused_bwd_ms = timer.median_ms(b.sets, r.unfused_bwd_kernels, [&](int s) { unfused_bwd(s); });
  return r;
}

std::string size_label(long long n) {
  return n >= (1ll << 20) ? std::to_string(n >> 20) + "M" : std::to_string(n >> 10) + "K";
}

void print_row(const row& r) {
  const double fg = gbps(r.fwd_bytes, r.fwd_ms), bg = gbps(r.bwd_bytes, r.bwd_ms);
  const double ufg = gbps(r.fwd_bytes, r.unfused_fwd_ms), ubg = gbps(r.bwd_bytes, r.unfused_bwd_ms);
  std::printf("%-8s %5s %4d %8.0f | %9.1f %6.0f %5.1f%% | %9.1f %6.0f %5.1f%% | %3d %9.1f %6.0f %5.1f%% %5.2fx | %3d %9.1f %6.0f %5.1f%% %5.2fx\n",
              r.neuron.c_str(), size_label(r.n).c_str(), r.sets, r.copy_gbps(), r.fwd_ms * 1e3, fg, r.pct(fg), r.bwd_ms * 1e3,
              bg, r.pct(bg), r.unfused_fwd_kernels, r.unfused_fwd_ms * 1e3, ufg, r.pct(ufg), r.unfused_fwd_ms / r.fwd_ms,
              r.unfused_bwd_kernels, r.unfused_bwd_ms * 1e3, ubg, r.pct(ubg), r.unfused_bwd_ms / r.bwd_ms);
}

void add_row(bench::json& j, const row& r) {
  const double fg = gbps(r.fwd_bytes, r.fwd_ms), bg = gbps(r.bwd_bytes, r.bwd_ms);
  const double ufg = gbps(r.fwd_bytes, r.unfused_fwd_ms), ubg = gbps(r.bwd_bytes, r.unfused_bwd_ms);
  j.open()
      .field("neuron", r.neuron)
      .field("n", r.n)
      .field("buffer_sets", r.sets)
      .field("copy_bytes", r.copy_bytes())
      .field("copy_ms", r.copy_ms)
      .field("copy_gbps", r.copy_gbps())
      .field("fused_fwd_bytes", r.fwd_bytes)
      .field("fused_fwd_ms", r.fwd_ms)
      .field("fused_fwd_gbps", fg)
      .field("fused_fwd_pct_of_copy", r.pct(fg))
      .field("fused_bwd_bytes", r.bwd_bytes)
      .field("fused_bwd_ms", r.bwd_ms)
      .field("fused_bwd_gbps", bg)
      .field("fused_bwd_pct_of_copy", r.pct(bg))
      .field("unfused_fwd_kernels", r.unfused_fwd_kernels)
      .field("unfused_fwd_bytes_moved", r.unfused_fwd_bytes)
      .field("unfused_fwd_ms", r.unfused_fwd_ms)
      .field("unfused_fwd_gbps_effective", ufg)
      .field("unfused_fwd_gbps_achieved", gbps(r.unfused_fwd_bytes, r.unfused_fwd_ms))
      .field("unfused_fwd_pct_of_copy", r.pct(ufg))
      .field("fused_fwd_speedup", r.unfused_fwd_ms / r.fwd_ms)
      .field("unfused_bwd_kernels", r.unfused_bwd_kernels)
      .field("unfused_bwd_bytes_moved", r.unfused_bwd_bytes)
      .field("unfused_bwd_ms", r.unfused_bwd_ms)
      .field("unfused_bwd_gbps_effective", ubg)
      .field("unfused_bwd_gbps_achieved", gbps(r.unfused_bwd_bytes, r.unfused_bwd_ms))
      .field("unfused_bwd_pct_of_copy", r.pct(ubg))
      .field("fused_bwd_speedup", r.unfused_bwd_ms / r.bwd_ms)
      .close();
}

void print_check(const check_result& c) {
  std::printf("check %s n=%s vs unfused: %s — spikes fired %lld, spike mismatches %lld (+%lld within %g of threshold), "
              "beyond %g relative: v %lld, trace %lld, psi %lld, grad_x %lld\n",
              c.neuron, size_label(c.n).c_str(), c.passed() ? "ok" : "FAILED", c.spikes, c.spike_mismatch,
              c.near_threshold_flips, kThresholdBand, kRelTol, c.v_mismatch, c.trace_mismatch, c.psi_mismatch,
              c.grad_mismatch);
}

void add_check(bench::json& j, const check_result& c) {
  j.open()
      .field("neuron", c.neuron)
      .field("n", c.n)
      .field("passed", c.passed())
      .field("spikes_fired", c.spikes)
      .field("spike_mismatch", c.spike_mismatch)
      .field("near_threshold_flips", c.near_threshold_flips)
      .field("v_mismatch", c.v_mismatch)
      .field("trace_mismatch", c.trace_mismatch)
      .field("psi_mismatch", c.psi_mismatch)
      .field("grad_x_mismatch", c.grad_mismatch)
      .close();
}

}  // namespace

int main(int argc, char** argv) {
  if (bench::no_gpu_to_benchmark()) return 0;
  const std::string json_path = argc > 1 ? argv[1] : "neuron_bandwidth.json";
  using OTTT = sf::OTTTLIF<>;
  using SLTT = sf::SLTTLIF<>;
  try {
    SF_CUDA_CHECK(cudaSetDevice(0));
    const std::string device = sfc::device_description();
    const std::string date = bench::utc_now();
    std::printf("device: %s\ndate: %s\n", device.c_str(), date.c_str());
    sfc::stream stream;
    const sfc::blas_handle blas(stream.get(), sfc::gemm_precision::fp32);  // the context wants one; no GEMM runs
    sfc::launch_counter counter;
    const sfc::context ctx{stream.get(), &blas, &counter};

    const check_result checks[] = {check_against_unfused<OTTT>(ctx, "OTTTLIF", kCheckN),
                                   check_against_unfused<SLTT>(ctx, "SLTTLIF", kCheckN)};
    bool checks_passed = true;
    for (const auto& c : checks) {
      print_check(c);
      checks_passed = checks_passed && c.passed();
    }
    if (!checks_passed) {
      std::printf("fused and unfused disagree: not benchmarking\n");
      return 1;
    }

    std::printf("\nmedian of %d timed batches after %d warm-up; GB/s = 1e9 B/s of the fused kernel's bytes "
                "(fwd: OTTT 28 B, SLTT 20 B per neuron; bwd 12 B); copy = cudaMemcpyAsync D2D, 8 B per float\n",
                kReps, kWarmup);
    std::printf("%-8s %5s %4s %8s | %-23s | %-23s | %-34s | %-34s\n", "", "", "", "", "fused forward", "fused backward",
                "unfused forward", "unfused backward");
    std::printf("%-8s %5s %4s %8s | %9s %6s %6s | %9s %6s %6s | %3s %9s %6s %6s %6s | %3s %9s %6s %6s %6s\n", "neuron", "n",
                "sets", "copyGB/s", "us", "GB/s", "%copy", "us", "GB/s", "%copy", "krn", "us", "GB/s", "%copy", "slower", "krn",
                "us", "GB/s", "%copy", "slower");

    std::vector<row> rows;
    for (int log2n = 16; log2n <= 26; log2n += 2) {
      const long long n = 1ll << log2n;
      const long long copy_footprint = 2 * n * static_cast<long long>(sizeof(float));  // the smallest timed footprint
      const int sets = static_cast<int>(std::max(1ll, (kRotationBytes + copy_footprint - 1) / copy_footprint));
      const std::size_t need = static_cast<std::size_t>(neuron_buffers::arrays) * sets * n * sizeof(float);
      std::size_t free_bytes = 0, total_bytes = 0;
      SF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
      if (need > free_bytes / 10 * 9) {
        std::printf("n=%s: needs %.1f GiB, %.1f GiB free: skipped\n", size_label(n).c_str(), need / 1073741824.0,
                    free_bytes / 1073741824.0);
        continue;
      }
      neuron_buffers b(n, sets);
      b.randomise(stream.get(), 42);
      gpu_timer timer(stream.get());
      const double copy_ms = timer.median_ms(sets, 1, [&](int s) {
        SF_CUDA_CHECK(cudaMemcpyAsync(b.at(b.tmp, s), b.at(b.x, s), static_cast<std::size_t>(n) * sizeof(float),
                                      cudaMemcpyDeviceToDevice, stream.get()));
      });
      rows.push_back(bench_neuron<OTTT>(ctx, timer, b, "OTTTLIF", copy_ms));
      print_row(rows.back());
      rows.push_back(bench_neuron<SLTT>(ctx, timer, b, "SLTTLIF", copy_ms));
      print_row(rows.back());
    }

    // The target: fused kernels at >= 90% of copy bandwidth from 16M neurons up, both directions.
    double worst_fwd = 1e9, worst_bwd = 1e9;
    for (const row& r : rows) {
      if (r.n < kTargetMinN) continue;
      worst_fwd = std::min(worst_fwd, r.pct(gbps(r.fwd_bytes, r.fwd_ms)));
      worst_bwd = std::min(worst_bwd, r.pct(gbps(r.bwd_bytes, r.bwd_ms)));
    }
    const bool measured = worst_fwd < 1e9;
    const bool met = measured && worst_fwd >= kTargetPct && worst_bwd >= kTargetPct;
    if (measured) {
      std::printf("\ntarget (fused >= %.0f%% of copy bandwidth at n >= 16M, forward and backward): %s "
                  "(worst forward %.1f%%, worst backward %.1f%%)\n",
                  kTargetPct, met ? "MET" : "NOT MET", worst_fwd, worst_bwd);
    } else {
      std::printf("\ntarget (fused >= %.0f%% of copy bandwidth at n >= 16M): not measured (sizes skipped)\n", kTargetPct);
    }

    bench::json j;
    j.open()
        .run_fields("cuda_neuron_bandwidth", device, date, argc, argv)
        .field("precision", "fp32")
        .open("method")
        .field("timing", "cudaEvent around batches of launches, GPU time (spin kernel ahead of each batch)")
        .field("warmup_batches", kWarmup)
        .field("timed_batches", kReps)
        .field("statistic", "median of per-launch time (batch time / launches in batch)")
        .field("rotation_bytes_min", kRotationBytes)
        .field("gbps", "1e9 bytes/s of the fused kernel's bytes (unfused *_gbps_effective too)")
        .field("unfused", "one elementwise kernel per op, SpikingJelly order; *_gbps_achieved counts its own bytes")
        .close()
        .open_array("checks");
    for (const auto& c : checks) add_check(j, c);
    j.close_array().open_array("rows");
    for (const row& r : rows) add_row(j, r);
    j.close_array()
        .open("target")
        .field("min_n", kTargetMinN)
        .field("pct_of_copy", kTargetPct)
        .field("measured", measured)
        .field("met", met)
        .field("worst_fwd_pct", measured ? worst_fwd : 0.0)
        .field("worst_bwd_pct", measured ? worst_bwd : 0.0)
        .close()
        .close();
    if (!j.save(json_path)) return 1;
    std::printf("wrote %s\n", json_path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
