// describe<L>(): a readable one-line name of a layer spec with its static parameters, for plans and logs.
#pragma once

#include <sstream>
#include <string>

#include "spikefuse/dsl/check.hpp"

namespace spikefuse::dsl {

template <class L>
std::string describe();

namespace detail {
// Surrogate parameters, recovered from the template arguments: Sigmoid<4>, PiecewiseLeakyReLU<1, 0.01>.
template <template <float> class S, float A>
std::string surrogate_args(S<A>*) {
  std::ostringstream os;
  os << "<" << A << ">";
  return os.str();
}
template <template <float, float> class S, float A, float B>
std::string surrogate_args(S<A, B>*) {
  std::ostringstream os;
  os << "<" << A << ", " << B << ">";
  return os.str();
}
template <template <int, float> class S, int N, float P>
std::string surrogate_args(S<N, P>*) {
  std::ostringstream os;
  os << "<" << N << ", " << P << ">";
  return os.str();
}
inline std::string surrogate_args(const void*) { return ""; }

template <class... L>
std::string describe_list() {
  std::string s;
  ((s += (s.empty() ? "" : ", ") + describe<L>()), ...);
  return s;
}

template <class... L>
std::string describe_sequence(Sequence<L...>*) {
  return "Sequence<" + describe_list<L...>() + ">";
}

template <class... B, class... S>
std::string describe_residual(Residual<Body<B...>, Shortcut<S...>>*) {
  return "Residual<Body<" + describe_list<B...>() + ">, Shortcut<" + describe_list<S...>() + ">>";
}

template <lif_params P, class S>
std::string describe_lif(const char* name) {
  std::ostringstream os;
  os << name << "<tau=" << P.tau << (P.decay_input ? ", decay_input" : "") << ", theta=" << P.v_threshold;
  if (P.reset.soft) {
    os << ", soft reset";
  } else {
    os << ", hard reset to " << P.reset.v_reset;
  }
  os << ", " << S::name << surrogate_args(static_cast<S*>(nullptr)) << ">";
  return os.str();
}
}  // namespace detail

template <class L>
std::string describe() {
  std::ostringstream os;
  if constexpr (is_input<L>) {
    os << "Input<" << L::dims.c << "x" << L::dims.h << "x" << L::dims.w << ">";
  } else if constexpr (is_linear<L>) {
    os << L::name << "<" << L::out_features << (L::has_bias ? "" : ", no bias") << ">";
  } else if constexpr (is_conv<L>) {
    os << L::name << "<" << L::out_channels << ", " << L::kernel << "x" << L::kernel;
    if (L::stride != 1) os << ", stride " << L::stride;
    if (L::padding != 0) os << ", pad " << L::padding;
    os << (L::has_bias ? "" : ", no bias") << ">";
  } else if constexpr (is_batch_norm<L>) {
    os << "BatchNorm2d<momentum " << L::momentum << ", eps " << L::eps << ">";
  } else if constexpr (requires { L::kind; L::kernel; }) {
    os << L::name << "<" << L::kernel;
    if (L::stride != L::kernel) os << ", stride " << L::stride;
    if (L::padding != 0) os << ", pad " << L::padding;
    os << ">";
  } else if constexpr (requires { L::out_h; L::out_w; }) {
    os << L::name << "<" << L::out_h << "x" << L::out_w << ">";
  } else if constexpr (is_sequence<L>) {
    return detail::describe_sequence(static_cast<L*>(nullptr));
  } else if constexpr (is_residual<L>) {
    return detail::describe_residual(static_cast<L*>(nullptr));
  } else if constexpr (is_neuron<L>) {
    return detail::describe_lif<L::params, typename L::surrogate_type>(L::name);
  } else if constexpr (is_scale<L>) {
    os << "Scale<" << L::factor << ">";
  } else if constexpr (is_dropout<L>) {
    os << L::name << "<" << L::probability << ">";
  } else {
    os << L::name;
  }
  return os.str();
}

inline std::string describe(shape s) {
  std::ostringstream os;
  if (s.is_flat()) {
    os << s.c;
  } else {
    os << s.c << "x" << s.h << "x" << s.w;
  }
  return os.str();
}

}  // namespace spikefuse::dsl

#include <boost/hana/for_each.hpp>

namespace spikefuse::dsl {

/// "Input<784x1x1> -> Linear<800> -> ..." : identifies a network in checkpoints and logs.
template <class Net>
std::string network_signature() {
  std::string s;
  boost::hana::for_each(Net::layer_types, [&](auto t) {
    if (!s.empty()) s += " -> ";
    s += describe<typename decltype(t)::type>();
  });
  return s;
}

}  // namespace spikefuse::dsl
