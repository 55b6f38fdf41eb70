// CUDA translation unit for the shared neuron math: device kernels that instantiate lif::step,
// lif::trace, lif::input_grad and the surrogate (derivative and, where defined, primitive) for the
// default neurons, the SLTT paper's neuron and one neuron per surrogate type, so that all of them stay
// device-safe. Only neuron/ and backend/cpu/lif.hpp are included: no Boost.Hana in device code.
//
// With a GPU, main() runs every kernel on seeded random inputs over several steps and compares with
// the CPU reference spikefuse::cpu::lif_forward / lif_backward:
//   spikes, v, trace   bit-exact (same operation order; built with nvcc's default -fmad=true: the
//                      trace's product is rounded by __fmul_rn in core/math.hpp, which nvcc never
//                      fuses into an FMA; -prec-div=true, the default, keeps the divisions exact)
//   psi, grad_x        relative 1e-5, with an absolute floor of 1e-6 (x |grad_spike| for grad_x):
//                      device expf/cosf/... may differ from the host's (spikefuse's exp, glibc's
//                      cosf/...) by an ulp or two, and where the surrogate subtracts
//                      (1 - sigma(ax) for large |ax|) one ulp of sigma is an absolute 6e-8, not a
//                      relative one
//   primitive          same tolerance as psi (not part of the CPU backend; compared with the host call)
// Without a GPU it prints "no CUDA device: compile-only check", runs the same per-element function on
// the host against the CPU reference (a self-check of this harness), and exits 77 (skipped) unless
// that fails (1).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "spikefuse/backend/cpu/lif.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif.hpp"
#include "spikefuse/neuron/lif_math.hpp"
#include "spikefuse/neuron/surrogate.hpp"
#include "../support/no_device.hpp"

#if defined(BOOST_HANA_CONFIG_HPP)
#error "the neuron headers must not pull Boost.Hana into a CUDA translation unit"
#endif

namespace sf = spikefuse;
namespace sg = spikefuse::surrogate;

namespace {

constexpr int kElements = 4096;
constexpr int kSteps = 8;
constexpr float kRelTol = 1e-5f;
constexpr float kAbsTol = 1e-6f;

/// Outputs of one sequence, [step][element].
struct buffers {
  float* spike;
  float* v;
  float* trace;
  float* psi;
  float* grad_x;
  float* primitive;
};

/// One element over all steps: the body of the kernel, also run on the host when there is no GPU.
template <class Neuron>
__host__ __device__ void run_element(int i, int n, int steps, const float* x, const float* grad_spike,
                                     buffers out) {
  constexpr sf::lif_params P = Neuron::params;
  using K = sf::lif_constants<P>;
  using S = typename Neuron::surrogate_type;
  float v = K::v_init;
  float trace = 0.f;
  for (int t = 0; t < steps; ++t) {
    const long long k = static_cast<long long>(t) * n + i;
    const sf::lif::step_result r = sf::lif::step<P>(v, x[k]);
    v = r.v;
    trace = sf::lif::trace<P>(trace, r.spike);
    const float psi = S::derivative(r.h - K::threshold);
    out.spike[k] = r.spike;
    out.v[k] = v;
    out.trace[k] = trace;
    out.psi[k] = psi;
    out.grad_x[k] = sf::lif::input_grad<P>(grad_spike[k], psi);
    if constexpr (S::has_primitive) {
      out.primitive[k] = S::primitive(r.h - K::threshold);
    } else {
      out.primitive[k] = 0.f;
    }
  }
}

template <class Neuron>
__global__ void neuron_sequence_kernel(int n, int steps, const float* x, const float* grad_spike, buffers out) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) run_element<Neuron>(i, n, steps, x, grad_spike, out);
}

/// Host-side storage of one sequence's outputs.
struct host_outputs {
  std::vector<float> spike, v, trace, psi, grad_x, primitive;
  explicit host_outputs(std::size_t size)
      : spike(size), v(size), trace(size), psi(size), grad_x(size), primitive(size) {}
  buffers view() { return {spike.data(), v.data(), trace.data(), psi.data(), grad_x.data(), primitive.data()}; }
};

bool same_bits(float a, float b) {
  std::uint32_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  return ua == ub;
}

/// Distance in units in the last place (both finite, same sign expected; large otherwise).
long long ulp_distance(float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return std::llabs(static_cast<long long>(ia) - ib);
}

bool close(float got, float want, float abs_floor) {
  if (same_bits(got, want)) return true;
  if (!std::isfinite(got) || !std::isfinite(want)) return false;
  const float diff = std::fabs(got - want);
  return diff <= kRelTol * std::fmax(std::fabs(got), std::fabs(want)) || diff <= abs_floor;
}

/// Tally of one compared field.
struct field_check {
  const char* name;
  long long mismatches = 0, inexact = 0, max_ulp = 0;
  long long first_bad = -1;
  float first_got = 0.f, first_want = 0.f;
  void record(long long k, float got, float want, bool ok) {
    if (!same_bits(got, want)) {
      ++inexact;
      const long long u = ulp_distance(got, want);
      if (u > max_ulp) max_ulp = u;
    }
    if (!ok) {
      if (first_bad < 0) {
        first_bad = k;
        first_got = got;
        first_want = want;
      }
      ++mismatches;
    }
  }
};

/// The CPU reference: the backend's loops, one step at a time, as the CPU model calls them.
template <class Neuron>
host_outputs cpu_reference(int n, int steps, const std::vector<float>& x, const std::vector<float>& grad_spike) {
  constexpr sf::lif_params P = Neuron::params;
  using K = sf::lif_constants<P>;
  using S = typename Neuron::surrogate_type;
  host_outputs ref(x.size());
  std::vector<float> v(n, K::v_init), trace(n, 0.f), v_before(n);
  for (int t = 0; t < steps; ++t) {
    const std::size_t off = static_cast<std::size_t>(t) * n;
    v_before = v;
    sf::cpu::lif_forward<Neuron>(sf::phase::train, n, x.data() + off, v.data(), trace.data(),
                                 ref.spike.data() + off, {ref.psi.data() + off, nullptr});
    sf::cpu::lif_backward<Neuron>(n, grad_spike.data() + off, {ref.psi.data() + off, nullptr, nullptr}, ref.grad_x.data() + off);
    for (int i = 0; i < n; ++i) {
      // The backend keeps a trace only for OTTT neurons; the kernel computes it for every neuron.
      if constexpr (!Neuron::keeps_trace) trace[i] = sf::lif::trace<P>(trace[i], ref.spike[off + i]);
      ref.v[off + i] = v[i];
      ref.trace[off + i] = trace[i];
      if constexpr (S::has_primitive) {
        ref.primitive[off + i] = S::primitive(sf::lif::charge<P>(v_before[i], x[off + i]) - K::threshold);
      } else {
        ref.primitive[off + i] = 0.f;
      }
    }
  }
  return ref;
}

#define SF_CUDA_CHECK(call)                                                                         \
  do {                                                                                              \
    const cudaError_t err_ = (call);                                                                \
    if (err_ != cudaSuccess) {                                                                      \
      std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorName(err_), __FILE__, __LINE__, \
                   cudaGetErrorString(err_));                                                       \
      return false;                                                                                 \
    }                                                                                               \
  } while (0)

template <class Neuron>
bool run_on_device(int n, int steps, const std::vector<float>& x, const std::vector<float>& grad_spike,
                   host_outputs& got) {
  const std::size_t size = x.size();
  const std::size_t bytes = size * sizeof(float);
  float* dev = nullptr;  // x, grad_spike, then the six outputs
  SF_CUDA_CHECK(cudaMalloc(&dev, 8 * bytes));
  float* d_x = dev;
  float* d_gs = dev + size;
  buffers d_out{dev + 2 * size, dev + 3 * size, dev + 4 * size, dev + 5 * size, dev + 6 * size, dev + 7 * size};
  bool ok = [&] {
    SF_CUDA_CHECK(cudaMemcpy(d_x, x.data(), bytes, cudaMemcpyHostToDevice));
    SF_CUDA_CHECK(cudaMemcpy(d_gs, grad_spike.data(), bytes, cudaMemcpyHostToDevice));
    constexpr int block = 256;
    neuron_sequence_kernel<Neuron><<<(n + block - 1) / block, block>>>(n, steps, d_x, d_gs, d_out);
    SF_CUDA_CHECK(cudaGetLastError());
    SF_CUDA_CHECK(cudaDeviceSynchronize());
    const buffers h = got.view();
    float* const dst[] = {h.spike, h.v, h.trace, h.psi, h.grad_x, h.primitive};
    const float* const src[] = {d_out.spike, d_out.v, d_out.trace, d_out.psi, d_out.grad_x, d_out.primitive};
    for (int f = 0; f < 6; ++f) SF_CUDA_CHECK(cudaMemcpy(dst[f], src[f], bytes, cudaMemcpyDeviceToHost));
    return true;
  }();
  SF_CUDA_CHECK(cudaFree(dev));
  return ok;
}

template <class Neuron>
bool check_neuron(const char* label, std::uint32_t seed, bool on_device) {
  using S = typename Neuron::surrogate_type;
  const int n = kElements, steps = kSteps;
  const std::size_t size = static_cast<std::size_t>(n) * steps;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> current(-1.5f, 2.5f), gradient(-1.f, 1.f);
  std::vector<float> x(size), grad_spike(size);
  for (auto& e : x) e = current(rng);
  for (auto& e : grad_spike) e = gradient(rng);
  // A few hand-picked currents: h − θ = 0 at the first step of a non-decay soft-reset neuron (fires
  // at equality, surrogates at 0), zeros and signed zeros.
  constexpr float special[] = {1.f, 0.f, -0.f, 1.f, 2.f, -1.f, 0.5f, 1.0000001f};
  for (int t = 0; t < steps; ++t)
    for (int j = 0; j < 8; ++j) x[static_cast<std::size_t>(t) * n + j] = special[(j + t) % 8];

  const host_outputs want = cpu_reference<Neuron>(n, steps, x, grad_spike);
  host_outputs got(size);
  if (on_device) {
    if (!run_on_device<Neuron>(n, steps, x, grad_spike, got)) {
      std::printf("FAIL %-44s kernel launch or copy failed\n", label);
      return false;
    }
  } else {
    for (int i = 0; i < n; ++i) run_element<Neuron>(i, n, steps, x.data(), grad_spike.data(), got.view());
  }

  field_check spike{"spike"}, v{"v"}, trace{"trace"}, psi{"psi"}, grad_x{"grad_x"}, primitive{"primitive"};
  long long fired = 0;
  for (std::size_t k = 0; k < size; ++k) {
    const auto kk = static_cast<long long>(k);
    fired += want.spike[k] == 1.f;
    spike.record(kk, got.spike[k], want.spike[k], same_bits(got.spike[k], want.spike[k]));
    v.record(kk, got.v[k], want.v[k], same_bits(got.v[k], want.v[k]));
    trace.record(kk, got.trace[k], want.trace[k], same_bits(got.trace[k], want.trace[k]));
    psi.record(kk, got.psi[k], want.psi[k], close(got.psi[k], want.psi[k], kAbsTol));
    grad_x.record(kk, got.grad_x[k], want.grad_x[k],
                  close(got.grad_x[k], want.grad_x[k], kAbsTol * std::fabs(grad_spike[k])));
    primitive.record(kk, got.primitive[k], want.primitive[k], close(got.primitive[k], want.primitive[k], kAbsTol));
  }
  const double rate = static_cast<double>(fired) / static_cast<double>(size);
  bool ok = fired > 0 && fired < static_cast<long long>(size);  // otherwise the comparison proves little
  const field_check* fields[] = {&spike, &v, &trace, &psi, &grad_x, &primitive};
  for (const field_check* f : fields) ok = ok && f->mismatches == 0;
  std::printf("%s %-44s rate %.3f  psi %lld/%zu inexact (max %lld ulp)  grad_x %lld inexact (max %lld ulp)%s\n",
              ok ? "ok  " : "FAIL", label, rate, psi.inexact, size, psi.max_ulp, grad_x.inexact, grad_x.max_ulp,
              S::has_primitive ? "" : "  [no primitive]");
  if (!ok) {
    if (fired == 0 || fired == static_cast<long long>(size))
      std::printf("     every element %s: the inputs do not exercise the neuron\n", fired ? "fired" : "stayed silent");
    for (const field_check* f : fields)
      if (f->mismatches)
        std::printf("     %-9s %lld mismatches; first at step %lld element %lld: got %.9g want %.9g\n", f->name,
                    f->mismatches, f->first_bad / n, f->first_bad % n, f->first_got, f->first_want);
  }
  return ok;
}

// Neurons under test: the library's defaults, the SLTT paper's neuron, and one per surrogate type
// (spread over OTTT/SLTT, decay_input, soft/hard reset and non-default surrogate parameters).
using OtttDefault = sf::OTTTLIF<>;
using SlttDefault = sf::SLTTLIF<>;
using SlttHard = sf::SLTTLIF<sf::sltt_params{.tau = 1.5, .v_threshold = 0.8, .reset = sf::hard_reset(-0.25)},
                             sf::surrogate::ATan<>>;

constexpr sf::ottt_params kOttt{};
constexpr sf::sltt_params kSltt{};
constexpr sf::ottt_params kOtttDecay{.tau = 4.0, .decay_input = true};
constexpr sf::sltt_params kSlttSoft{.tau = 1.1, .decay_input = false, .reset = sf::soft_reset};

struct neuron_case {
  const char* label;
  bool (*check)(const char*, std::uint32_t, bool);
};

const neuron_case kCases[] = {
    {"OTTTLIF<> (Sigmoid<4>)", &check_neuron<OtttDefault>},
    {"SLTTLIF<> (Sigmoid<4>)", &check_neuron<SlttDefault>},
    {"SLTTPaperLIF (PiecewiseQuadratic<1>)", &check_neuron<sf::SLTTPaperLIF>},
    {"SLTTLIF hard_reset(-0.25) ATan<2>", &check_neuron<SlttHard>},
    {"OTTTLIF PiecewiseQuadratic<0.5>", &check_neuron<sf::OTTTLIF<kOttt, sg::PiecewiseQuadratic<0.5f>>>},
    {"SLTTLIF PiecewiseExp<1>", &check_neuron<sf::SLTTLIF<kSltt, sg::PiecewiseExp<>>>},
    {"OTTTLIF(decay_input) Sigmoid<2>", &check_neuron<sf::OTTTLIF<kOtttDecay, sg::Sigmoid<2.f>>>},
    {"SLTTLIF(soft) SoftSign<2>", &check_neuron<sf::SLTTLIF<kSlttSoft, sg::SoftSign<>>>},
    {"OTTTLIF SuperSpike<1>", &check_neuron<sf::OTTTLIF<kOttt, sg::SuperSpike<>>>},
    {"SLTTLIF ATan<2>", &check_neuron<sf::SLTTLIF<kSltt, sg::ATan<>>>},
    {"OTTTLIF NonzeroSignLogAbs<1>", &check_neuron<sf::OTTTLIF<kOttt, sg::NonzeroSignLogAbs<>>>},
    {"SLTTLIF Erf<2>", &check_neuron<sf::SLTTLIF<kSltt, sg::Erf<>>>},
    {"OTTTLIF(decay_input) PiecewiseLeakyReLU<1,0.01>", &check_neuron<sf::OTTTLIF<kOtttDecay, sg::PiecewiseLeakyReLU<>>>},
    {"SLTTLIF SquarewaveFourierSeries<4,8>", &check_neuron<sf::SLTTLIF<kSltt, sg::SquarewaveFourierSeries<4, 8.f>>>},
    {"OTTTLIF S2NN<4,1>", &check_neuron<sf::OTTTLIF<kOttt, sg::S2NN<>>>},
    {"SLTTLIF(soft) QPseudoSpike<2>", &check_neuron<sf::SLTTLIF<kSlttSoft, sg::QPseudoSpike<>>>},
    {"OTTTLIF LeakyKReLU<0.1,1>", &check_neuron<sf::OTTTLIF<kOttt, sg::LeakyKReLU<0.1f, 1.f>>>},
    {"SLTTLIF FakeNumericalGradient<0.3>", &check_neuron<sf::SLTTLIF<kSltt, sg::FakeNumericalGradient<>>>},
    {"OTTTLIF LogTailedReLU<0.01>", &check_neuron<sf::OTTTLIF<kOttt, sg::LogTailedReLU<0.01f>>>},
    {"SLTTLIF Rect<1>", &check_neuron<sf::SLTTLIF<kSltt, sg::Rect<>>>},
    {"OTTTLIF DeterministicPass", &check_neuron<sf::OTTTLIF<kOttt, sg::DeterministicPass>>},
};

}  // namespace

int main() {
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  const bool on_device = err == cudaSuccess && devices > 0;
  if (on_device) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
      std::printf("device 0: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  } else {
    std::printf("no CUDA device: compile-only check\n");
    std::printf("(%s; running the kernel body on the host against the CPU reference as a harness self-check)\n",
                err == cudaSuccess ? "cudaGetDeviceCount returned 0" : cudaGetErrorName(err));
  }
  std::printf("%d neurons, %d elements x %d steps each; spikes, v, trace bit-exact; psi, grad_x, primitive "
              "within %g relative (absolute floor %g)\n",
              static_cast<int>(sizeof kCases / sizeof kCases[0]), kElements, kSteps, kRelTol, kAbsTol);
  int failed = 0;
  std::uint32_t seed = 20240611u;
  for (const neuron_case& c : kCases) failed += !c.check(c.label, seed++, on_device);
  const int total = static_cast<int>(sizeof kCases / sizeof kCases[0]);
  std::printf("%s: %d of %d neurons match the CPU reference (%s)\n", failed ? "FAILED" : "PASSED", total - failed,
              total, on_device ? "device" : "host self-check");
  if (!on_device)
    return spikefuse::testing::exit_without_device(err == cudaSuccess ? "cudaGetDeviceCount returned 0" : cudaGetErrorName(err),
                                                   failed != 0);
  return failed ? 1 : 0;
}
