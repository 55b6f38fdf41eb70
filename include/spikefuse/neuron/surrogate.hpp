// Surrogate gradients: spike forward s = Θ(x) = [x >= 0]; backward uses g'(x) of a smooth primitive g(x), x = h − θ.
//
// Formulas and default parameters follow SpikingJelly's `surrogate.py` (spec §C). Every type has a
// `derivative(x)`; those whose primitive SpikingJelly defines also have `primitive(x)` and set
// `has_primitive`. Parameters are template arguments so the constants fold into the kernels.
#pragma once

#include "spikefuse/config.hpp"
#include "spikefuse/core/math.hpp"

#include <concepts>

namespace spikefuse::surrogate {

/// The forward function of every spiking surrogate: fires at equality (SpikingJelly `heaviside`).
SF_HOST_DEVICE constexpr float heaviside(float x) { return x >= 0.f ? 1.f : 0.f; }

namespace detail {
SF_HOST_DEVICE constexpr float sign_nonzero(float x) { return x >= 0.f ? 1.f : -1.f; }
SF_HOST_DEVICE constexpr float sigmoid(float x) { return 1.f / (1.f + math::exp(-x)); }
}  // namespace detail

/// g'(x) = α − α²|x| for |x| ≤ 1/α, else 0. SLTT's "triangle" is α = 1.
template <float Alpha = 1.f>
struct PiecewiseQuadratic {
  static_assert(Alpha > 0.f, "spikefuse: PiecewiseQuadratic: alpha must be positive");
  static constexpr const char* name = "PiecewiseQuadratic";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float d = Alpha - Alpha * Alpha * math::abs(x);
    return d > 0.f ? d : 0.f;
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    if (x < -1.f / Alpha) return 0.f;
    if (x > 1.f / Alpha) return 1.f;
    return -(Alpha * Alpha / 2.f) * x * math::abs(x) + Alpha * x + 0.5f;
  }
};

/// g'(x) = (α/2)·e^{−α|x|}.
template <float Alpha = 1.f>
struct PiecewiseExp {
  static_assert(Alpha > 0.f, "spikefuse: PiecewiseExp: alpha must be positive");
  static constexpr const char* name = "PiecewiseExp";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    return Alpha / 2.f * math::exp(-Alpha * math::abs(x));
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    return x >= 0.f ? 1.f - 0.5f * math::exp(-Alpha * x) : 0.5f * math::exp(Alpha * x);
  }
};

/// g'(x) = α·σ(αx)·(1 − σ(αx)); the default of every SpikingJelly neuron.
template <float Alpha = 4.f>
struct Sigmoid {
  static_assert(Alpha > 0.f, "spikefuse: Sigmoid: alpha must be positive");
  static constexpr const char* name = "Sigmoid";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float s = detail::sigmoid(Alpha * x);
    return (1.f - s) * s * Alpha;
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) { return detail::sigmoid(Alpha * x); }
};

/// g'(x) = 1 / (2α(1/α + |x|)²).
template <float Alpha = 2.f>
struct SoftSign {
  static_assert(Alpha > 0.f, "spikefuse: SoftSign: alpha must be positive");
  static constexpr const char* name = "SoftSign";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float z = 1.f / Alpha + math::abs(x);
    return 1.f / (2.f * Alpha * z * z);
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    const float ax = Alpha * x;
    return (ax / (1.f + math::abs(ax)) + 1.f) / 2.f;
  }
};

/// g'(x) = α / (|x| + 1)²; SpikingJelly defines no primitive.
template <float Alpha = 1.f>
struct SuperSpike {
  static_assert(Alpha > 0.f, "spikefuse: SuperSpike: alpha must be positive");
  static constexpr const char* name = "SuperSpike";
  static constexpr bool has_primitive = false;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float z = math::abs(x) + 1.f;
    return Alpha / (z * z);
  }
};

/// g'(x) = (α/2) / (1 + (παx/2)²).
template <float Alpha = 2.f>
struct ATan {
  static_assert(Alpha > 0.f, "spikefuse: ATan: alpha must be positive");
  static constexpr const char* name = "ATan";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float z = math::pi / 2.f * Alpha * x;
    return Alpha / 2.f / (1.f + z * z);
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    return math::atan(math::pi / 2.f * Alpha * x) / math::pi + 0.5f;
  }
};

/// g'(x) = 1 / (1/α + |x|); primitive sgn(x)·log(α|x| + 1) with sgn(0) = +1.
template <float Alpha = 1.f>
struct NonzeroSignLogAbs {
  static_assert(Alpha > 0.f, "spikefuse: NonzeroSignLogAbs: alpha must be positive");
  static constexpr const char* name = "NonzeroSignLogAbs";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) { return 1.f / (1.f / Alpha + math::abs(x)); }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    return detail::sign_nonzero(x) * math::log(Alpha * math::abs(x) + 1.f);
  }
};

/// g'(x) = (α/√π)·e^{−α²x²}; primitive erfc(−αx)/2.
template <float Alpha = 2.f>
struct Erf {
  static_assert(Alpha > 0.f, "spikefuse: Erf: alpha must be positive");
  static constexpr const char* name = "Erf";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float z = Alpha * x;
    return Alpha / 1.7724538509055159f * math::exp(-z * z);
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) { return math::erfc(-Alpha * x) / 2.f; }
};

/// g'(x) = 1/(2w) for |x| < w, else c.
template <float W = 1.f, float C = 0.01f>
struct PiecewiseLeakyReLU {
  static_assert(W > 0.f, "spikefuse: PiecewiseLeakyReLU: w must be positive");
  static constexpr const char* name = "PiecewiseLeakyReLU";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    return math::abs(x) < W ? 1.f / (2.f * W) : C;
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    if (x < -W) return C * x + C * W;
    if (x > W) return C * x - C * W + 1.f;
    return x / (2.f * W) + 0.5f;
  }
};

/// g'(x) = (4/T)·Σ_{i=1}^{n−1} cos((2i−1)ωx), ω = 2π/T. SpikingJelly sums n−1 terms (spec §G.17).
template <int N = 2, float TPeriod = 8.f>
struct SquarewaveFourierSeries {
  static_assert(N >= 2, "spikefuse: SquarewaveFourierSeries: n must be at least 2 (SpikingJelly sums n - 1 terms)");
  static_assert(TPeriod > 0.f, "spikefuse: SquarewaveFourierSeries: the period must be positive");
  static constexpr const char* name = "SquarewaveFourierSeries";
  static constexpr bool has_primitive = true;
  static constexpr float omega = 2.f * math::pi / TPeriod;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    float sum = 0.f;
    for (int i = 1; i < N; ++i) sum += math::cos(static_cast<float>(2 * i - 1) * omega * x);
    return sum * 4.f / TPeriod;
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    float sum = 0.f;
    for (int i = 1; i < N; ++i) {
      const float k = static_cast<float>(2 * i - 1);
      sum += math::sin(k * omega * x) / k;
    }
    return 0.5f + 2.f / math::pi * sum;
  }
};

/// g'(x) = α·σ(αx)(1 − σ(αx)) for x < 0, β/(x + 1) for x ≥ 0.
template <float Alpha = 4.f, float Beta = 1.f>
struct S2NN {
  static constexpr const char* name = "S2NN";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    if (x < 0.f) {
      const float s = detail::sigmoid(Alpha * x);
      return Alpha * s * (1.f - s);
    }
    return Beta / (x + 1.f);
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    if (x < 0.f) return detail::sigmoid(Alpha * x);
    return Beta * math::log(math::abs(x + 1.f) + 1e-5f) + 0.5f;
  }
};

/// g'(x) = (1 + 2|x|/(α − 1))^{−α}.
template <float Alpha = 2.f>
struct QPseudoSpike {
  static_assert(Alpha > 1.f, "spikefuse: QPseudoSpike: alpha must be greater than 1");
  static constexpr const char* name = "QPseudoSpike";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    return math::pow(1.f + 2.f / (Alpha - 1.f) * math::abs(x), -Alpha);
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    if (x >= 0.f) return 1.f - 0.5f * math::pow(1.f + 2.f / (Alpha - 1.f) * x, 1.f - Alpha);
    return 0.5f * math::pow(1.f - 2.f / (Alpha - 1.f) * x, 1.f - Alpha);
  }
};

/// g'(x) = k for x ≥ 0, leak otherwise.
template <float Leak = 0.f, float K = 1.f>
struct LeakyKReLU {
  static constexpr const char* name = "LeakyKReLU";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) { return x >= 0.f ? K : Leak; }
  SF_HOST_DEVICE static constexpr float primitive(float x) { return (x >= 0.f ? K : Leak) * x; }
};

/// g'(x) = min(1/|x|, α), α at x = 0; no primitive.
template <float Alpha = 0.3f>
struct FakeNumericalGradient {
  static constexpr const char* name = "FakeNumericalGradient";
  static constexpr bool has_primitive = false;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    const float inv = detail::sign_nonzero(x) / x;  // +inf at x = 0, so the clamp gives α
    return inv < Alpha ? inv : Alpha;
  }
};

/// g'(x) = α (x ≤ 0), 1 (0 < x ≤ 1), 1/x (x > 1).
template <float Alpha = 0.f>
struct LogTailedReLU {
  static constexpr const char* name = "LogTailedReLU";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    if (x <= 0.f) return Alpha;
    if (x <= 1.f) return 1.f;
    return 1.f / x;
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    if (x > 1.f) return math::log(x) + 1.f;
    return x > 0.f ? x : Alpha * x;
  }
};

/// g'(x) = α·[|x| < 0.5/α]; primitive clamp(αx + ½, 0, 1).
template <float Alpha = 1.f>
struct Rect {
  static_assert(Alpha > 0.f, "spikefuse: Rect: alpha must be positive");
  static constexpr const char* name = "Rect";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float x) {
    return math::abs(x) < 0.5f / Alpha ? Alpha : 0.f;
  }
  SF_HOST_DEVICE static constexpr float primitive(float x) {
    const float y = Alpha * x + 0.5f;
    return y < 0.f ? 0.f : (y > 1.f ? 1.f : y);
  }
};

/// Straight-through estimator: g'(x) = 1, primitive = identity.
struct DeterministicPass {
  static constexpr const char* name = "DeterministicPass";
  static constexpr bool has_primitive = true;
  SF_HOST_DEVICE static constexpr float derivative(float) { return 1.f; }
  SF_HOST_DEVICE static constexpr float primitive(float x) { return x; }
};

/// True for the types above; a neuron rejects anything else at compile time.
template <class S>
concept surrogate_function = requires(float x) {
  { S::derivative(x) } -> std::same_as<float>;
  S::name;
};

}  // namespace spikefuse::surrogate
