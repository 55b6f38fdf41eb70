// Parameter layout shared by every backend: one flat vector, tensors in node order, each drawn by its init_rule from one uniform01 stream.
//
// Both backends build the same layout and draw the initial values from the same stream, so a CPU
// model and a CUDA model built with one seed start from identical weights. Running statistics
// (BatchNorm) get a second, untrained flat vector with the same kind of layout.
#pragma once

#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "spikefuse/core/random.hpp"
#include "spikefuse/dsl/network.hpp"
#include "spikefuse/layer/parameter_spec.hpp"

namespace spikefuse {

/// One named tensor inside a flat vector (parameters, or running statistics).
struct parameter_tensor {
  std::string name;     // "<prefix><k>.<field>": "linear0.weight", "wsconv2.gain", "bn0.running_var", ...
  std::size_t layer;    // node index in the network
  long long offset;     // in floats, into the flat vector (and the gradient vector for parameters)
  long long size;
  int rows, cols;       // weight: [out, fan_in]; vectors: [n, 1]
  int fan_in, fan_out;
  init_rule init;
};

namespace detail {
template <class Net, bool Statistics>
std::vector<parameter_tensor> tensor_layout() {
  std::vector<parameter_tensor> tensors;
  long long offset = 0;
  std::map<std::string, int> counters;  // per prefix: conv0, conv1, ..., bn0, ...
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename Net::template layer_at<I>;
          if constexpr (parametric_layer<L>) {
            const std::string prefix = L::tensor_prefix + std::to_string(counters[L::tensor_prefix]++) + ".";
            constexpr auto specs = [] {
              if constexpr (!Statistics) {
                return L::template parameter_tensors<typename Net::template input_port_at<I>>();
              } else if constexpr (layer_with_statistics<L>) {
                return L::template statistic_tensors<typename Net::template input_port_at<I>>();
              } else {
                return std::array<tensor_spec, 0>{};
              }
            }();
            for (const auto& t : specs) {
              tensors.push_back({prefix + t.field, I, offset, t.size, t.rows, t.cols, t.fan_in, t.fan_out, t.init});
              offset += t.size;
            }
          }
        }(),
        ...);
  }(std::make_index_sequence<Net::depth + 1>{});
  return tensors;
}
}  // namespace detail

/// The trainable tensors of `Net` in node order, e.g. conv0.weight, conv0.bias, bn0.weight, ...
template <class Net>
std::vector<parameter_tensor> parameter_layout() {
  return detail::tensor_layout<Net, false>();
}

/// The running statistics of `Net` (BatchNorm running_mean / running_var), in node order.
template <class Net>
std::vector<parameter_tensor> statistics_layout() {
  return detail::tensor_layout<Net, true>();
}

inline long long floats_in(const std::vector<parameter_tensor>& tensors) {
  return tensors.empty() ? 0 : tensors.back().offset + tensors.back().size;
}

/// Offset of the tensor `field` ("weight", "bias", "gain", ...) of node `layer`, or −1 if it has none.
inline long long tensor_offset(const std::vector<parameter_tensor>& tensors, std::size_t layer, const std::string& field) {
  for (const auto& t : tensors)
    if (t.layer == layer && t.name.size() > field.size() + 1 &&
        t.name.compare(t.name.size() - field.size() - 1, field.size() + 1, "." + field) == 0)
      return t.offset;
  return -1;
}

/// Draws every tensor by its rule. PyTorch's nn.Linear / nn.Conv2d default (kaiming_uniform with
/// a = √5 for W, U(±1/√fan_in) for b) is the bound 1/√fan_in for both; normal draws use Box–Muller.
inline void initialise_parameters(const std::vector<parameter_tensor>& tensors, float* values, uniform01& uniform) {
  auto normal = [&](double stddev) {
    const double u1 = 1.0 - static_cast<double>(uniform());  // (0, 1]: the log is finite
    const double u2 = uniform();
    return static_cast<float>(stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2));
  };
  for (const auto& t : tensors) {
    float* p = values + t.offset;
    switch (t.init) {
      case init_rule::uniform_fan_in: {
        const float bound = 1.f / std::sqrt(static_cast<float>(t.fan_in));
        for (long long i = 0; i < t.size; ++i) p[i] = bound * (2.f * uniform() - 1.f);
        break;
      }
      case init_rule::kaiming_normal_fan_out: {
        const double stddev = std::sqrt(2.0 / t.fan_out);
        for (long long i = 0; i < t.size; ++i) p[i] = normal(stddev);
        break;
      }
      case init_rule::normal_0_01:
        for (long long i = 0; i < t.size; ++i) p[i] = normal(0.01);
        break;
      case init_rule::zeros:
        for (long long i = 0; i < t.size; ++i) p[i] = 0.f;
        break;
      case init_rule::ones:
        for (long long i = 0; i < t.size; ++i) p[i] = 1.f;
        break;
    }
  }
}

}  // namespace spikefuse
