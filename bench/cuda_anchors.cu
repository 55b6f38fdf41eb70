// CUDA kernel-level anchors (issue 5): SpikingJelly's Triton-tutorial neuron configuration and the Open Neuromorphic Linear + LIF configuration, against the copy-bandwidth and cuBLAS limits measured in the same run.
//
//   cuda_anchors [out.json]        (default anchors.json)
//
//   neuron_only   one LIF layer alone, input [T = 32, 64, 65536], forward then backward over the
//                 whole sequence, fp32: T fused forward kernels (SLTTLIF: s, v, ψ) and T fused
//                 backward kernels (∂x = ∂s·ψ), the neuron's state carried in place. Limit: a
//                 device-to-device copy of the same bytes (x, ψ, s, v moved per step forward,
//                 ∂s, ψ, ∂x backward), timed here. Timed twice: launch by launch, and as one CUDA
//                 graph (how a training step replays its launches: no gaps between the 2T kernels).
//   linear_lif    Linear n→n (no bias) + LIF, batch 16, T = 500, n ∈ {4096, 8192, 16384}, forward and
//                 backward, online: per step a forward GEMM z = x·Wᵀ, the fused LIF kernel, and
//                 backward the LIF kernel, dW += δᵀ·x (β = 1) and dx = δ·W. Limit: the same 3T
//                 GEMMs alone (cuBLAS), timed here. Online training reads W three times per step;
//                 a BPTT implementation can batch the T steps into one large GEMM — the table says
//                 which side of that trade each number is on.
// Each configuration: 2 warm-up sequences, then 10 timed ones (CUDA events), median ms per
// sequence. SpikingJelly's side of both configurations is bench/compare/sj_worker.py
// (--workload neuron_only / linear_lif, its fastest backend); scripts/gpu_session.sh (part anchors) runs both. Its
// backward is BPTT (through v over time), this one the online rule's (∂x = ∂s·ψ per step): each
// side's own training rule, on the same shapes.
// Without a GPU: prints "no CUDA device: nothing to benchmark" and exits 0.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "spikefuse/backend/cuda/blas.cuh"
#include "spikefuse/backend/cuda/device_memory.cuh"
#include "spikefuse/backend/cuda/error.cuh"
#include "spikefuse/backend/cuda/launch.cuh"
#include "spikefuse/backend/cuda/stream.cuh"
#include "spikefuse/backend/cuda/lif.cuh"
#include "spikefuse/neuron/lif.hpp"

namespace sf = spikefuse;
namespace sfc = spikefuse::cuda;

namespace {

using Neuron = sf::SLTTLIF<>;  // SLTTLIFNode() defaults (τ = 2, decay_input, hard reset to 0, Sigmoid(4)); no trace
constexpr int kWarmup = 2;
constexpr int kTimed = 10;

struct uniform_op {
  float* out;
  unsigned long long seed;
  float lo, hi;
  __device__ void operator()(long long i) const {
    unsigned long long z = (static_cast<unsigned long long>(i) + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    out[i] = lo + (hi - lo) * static_cast<float>(z >> 40) * (1.f / 16777216.f);
  }
};

double median_ms(cudaStream_t s, int reps, const auto& run) {
  cudaEvent_t start, stop;
  SF_CUDA_CHECK(cudaEventCreate(&start));
  SF_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < kWarmup; ++i) run();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    SF_CUDA_CHECK(cudaEventRecord(start, s));
    run();
    SF_CUDA_CHECK(cudaEventRecord(stop, s));
    SF_CUDA_CHECK(cudaEventSynchronize(stop));
    float t = 0.f;
    SF_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return bench::median(ms);
}

struct anchor_row {
  std::string name;
  long long T = 0, batch = 0, n = 0;
  double ms = 0, limit_ms = 0;
  double graph_ms = -1;  // the same launches replayed as one CUDA graph, as a training step runs them (-1: not measured)
  std::string limit;
};

anchor_row neuron_only(const sfc::context& ctx, int T, int batch, long long features) {
  const long long n = static_cast<long long>(batch) * features;
  // The sequence's inputs and ψ are kept for the backward (SpikingJelly's multi-step neuron keeps them too).
  sfc::device_array<float> x(static_cast<std::size_t>(n * T)), psi(static_cast<std::size_t>(n * T)),
      spikes(static_cast<std::size_t>(n * T)), grad(static_cast<std::size_t>(n * T)), grad_x(static_cast<std::size_t>(n * T)),
      v(static_cast<std::size_t>(n));
  sfc::launch_elementwise(ctx, n * T, uniform_op{x.data(), 1, 0.f, 2.f});
  sfc::launch_elementwise(ctx, n * T, uniform_op{grad.data(), 2, -1.f, 1.f});
  constexpr long long F = 65536;
  if (features != F) throw std::invalid_argument("neuron_only is compiled for 65536 features");
  const auto run = [&] {
    ctx.zero(v.data(), n);
    for (int t = 0; t < T; ++t)
      sfc::lif_forward<Neuron, F>(ctx, sf::phase::train, n, x.data() + t * n, nullptr, v.data(), nullptr,
                                  spikes.data() + t * n, {psi.data() + t * n, nullptr});
    for (int t = T - 1; t >= 0; --t)
      sfc::lif_backward<Neuron, F>(ctx, batch, grad.data() + t * n, {psi.data() + t * n, nullptr, nullptr}, grad_x.data() + t * n, nullptr,
                                   nullptr, nullptr);
  };
  anchor_row r;
  r.name = "neuron_only";
  r.T = T;
  r.batch = batch;
  r.n = features;
  r.ms = median_ms(ctx.stream, kTimed, run);
  // The training step replays its launches as a CUDA graph: the 2T launches without the gaps between them.
  const sfc::graph_exec graph = sfc::graph_exec::capture(ctx.stream, [&](cudaStream_t) { run(); });
  r.graph_ms = median_ms(ctx.stream, kTimed, [&] { graph.launch(ctx.stream); });
  // The bytes the fused kernels must move: forward x, v read, s, v, ψ written; backward ∂s, ψ read, ∂x written.
  const long long bytes = static_cast<long long>(sizeof(float)) * n * T * (5 + 3);
  sfc::device_array<float> from(static_cast<std::size_t>(bytes / 8)), to(static_cast<std::size_t>(bytes / 8));
  r.limit_ms = median_ms(ctx.stream, kTimed, [&] {
    SF_CUDA_CHECK(cudaMemcpyAsync(to.data(), from.data(), static_cast<std::size_t>(bytes / 2), cudaMemcpyDeviceToDevice,
                                  ctx.stream));
  });
  r.limit = "device copy of the same bytes";
  return r;
}

template <long long N>
anchor_row linear_lif(const sfc::context& ctx, int T, int batch) {
  const long long nb = static_cast<long long>(batch) * N;
  sfc::device_array<float> w(static_cast<std::size_t>(N * N)), dw(static_cast<std::size_t>(N * N)),
      x(static_cast<std::size_t>(nb)), z(static_cast<std::size_t>(nb)), v(static_cast<std::size_t>(nb)),
      s(static_cast<std::size_t>(nb)), psi(static_cast<std::size_t>(nb)), grad(static_cast<std::size_t>(nb)),
      dz(static_cast<std::size_t>(nb)), dx(static_cast<std::size_t>(nb));
  sfc::launch_elementwise(ctx, N * N, uniform_op{w.data(), 3, -0.02f, 0.02f});
  sfc::launch_elementwise(ctx, nb, uniform_op{x.data(), 4, 0.f, 1.f});
  sfc::launch_elementwise(ctx, nb, uniform_op{grad.data(), 5, -1.f, 1.f});
  const int n = static_cast<int>(N);
  const auto gemms = [&] {
    ctx.gemm(false, true, batch, n, n, 1.f, x.data(), n, w.data(), n, 0.f, z.data(), n);  // z = x·Wᵀ
    ctx.gemm(true, false, n, n, batch, 1.f, dz.data(), n, x.data(), n, 1.f, dw.data(), n);  // dW += δᵀ·x
    ctx.gemm(false, false, batch, n, n, 1.f, dz.data(), n, w.data(), n, 0.f, dx.data(), n);  // dx = δ·W
  };
  anchor_row r;
  r.name = "linear_lif";
  r.T = T;
  r.batch = batch;
  r.n = N;
  r.ms = median_ms(ctx.stream, kTimed, [&] {
    ctx.zero(v.data(), nb);
    ctx.zero(dw.data(), N * N);
    for (int t = 0; t < T; ++t) {
      ctx.gemm(false, true, batch, n, n, 1.f, x.data(), n, w.data(), n, 0.f, z.data(), n);
      sfc::lif_forward<Neuron, N>(ctx, sf::phase::train, nb, z.data(), nullptr, v.data(), nullptr, s.data(), {psi.data(), nullptr});
      sfc::lif_backward<Neuron, N>(ctx, batch, grad.data(), {psi.data(), nullptr, nullptr}, dz.data(), nullptr, nullptr, nullptr);
      ctx.gemm(true, false, n, n, batch, 1.f, dz.data(), n, x.data(), n, 1.f, dw.data(), n);
      ctx.gemm(false, false, batch, n, n, 1.f, dz.data(), n, w.data(), n, 0.f, dx.data(), n);
    }
  });
  r.limit_ms = median_ms(ctx.stream, kTimed, [&] {
    for (int t = 0; t < T; ++t) gemms();
  });
  r.limit = "the same 3T cuBLAS GEMMs alone";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (bench::no_gpu_to_benchmark()) return 0;
  const std::string out = argc > 1 ? argv[1] : "anchors.json";
  try {
    sfc::stream stream;
    sfc::blas_handle blas(stream.get(), sfc::gemm_precision::fp32);
    sfc::launch_counter counter;
    const sfc::context ctx{stream.get(), &blas, &counter};
    std::vector<anchor_row> rows;
    rows.push_back(neuron_only(ctx, 32, 64, 65536));
    rows.push_back(linear_lif<4096>(ctx, 500, 16));
    rows.push_back(linear_lif<8192>(ctx, 500, 16));
    rows.push_back(linear_lif<16384>(ctx, 500, 16));
    bench::json j;
    j.open();
    j.run_fields("cuda_anchors", sfc::device_description(), bench::utc_now(), argc, argv);
    j.open_array("rows");
    std::printf("| anchor | T | batch | n | spikefuse ms | as one CUDA graph ms | limit ms | limit |\n"
                "|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : rows) {
      char graph[32] = "-";
      if (r.graph_ms >= 0) std::snprintf(graph, sizeof graph, "%.3f", r.graph_ms);
      std::printf("| %s | %lld | %lld | %lld | %.3f | %s | %.3f | %s |\n", r.name.c_str(), r.T, r.batch, r.n, r.ms, graph,
                  r.limit_ms, r.limit.c_str());
      j.open(nullptr).field("name", r.name).field("T", r.T).field("batch", r.batch).field("n", r.n).field("ms", r.ms);
      if (r.graph_ms >= 0) j.field("graph_ms", r.graph_ms);
      j.field("limit_ms", r.limit_ms).field("limit", r.limit).close();
    }
    j.close_array().close();
    if (!j.save(out)) return 1;
    std::printf("wrote %s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
