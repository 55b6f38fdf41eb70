// Parameter layout shared by every backend: one flat vector, tensors in layer order, W ~ U(−1/√fan_in, 1/√fan_in).
//
// Both backends build the same layout and draw the initial values from the same uniform01 stream,
// so a CPU model and a CUDA model built with one seed start from identical weights.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "spikefuse/core/random.hpp"
#include "spikefuse/dsl/network.hpp"
#include "spikefuse/layer/linear.hpp"

namespace spikefuse {

/// One named parameter tensor inside the flat parameter vector.
struct parameter_tensor {
  std::string name;     // "linear0.weight", "linear0.bias", ...
  std::size_t layer;    // index in the network
  long long offset;     // in floats, into the flat parameter / gradient vectors
  long long size;
  int rows, cols;       // weight: [out, in]; bias: [out, 1]
  int fan_in;           // inputs of the layer: sets the initialisation bound 1/√fan_in
};

/// The tensors of `Net` in layer order: for each Linear its weight [out, in], then its bias.
template <class Net>
std::vector<parameter_tensor> parameter_layout() {
  std::vector<parameter_tensor> tensors;
  long long offset = 0;
  int linear_count = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename Net::template layer_at<I>;
          if constexpr (is_linear<L>) {
            constexpr int in = static_cast<int>(Net::template port_at<I - 1>::size);
            constexpr int out = L::out_features;
            const std::string prefix = "linear" + std::to_string(linear_count++);
            tensors.push_back({prefix + ".weight", I, offset, static_cast<long long>(in) * out, out, in, in});
            offset += static_cast<long long>(in) * out;
            if constexpr (L::has_bias) {
              tensors.push_back({prefix + ".bias", I, offset, out, out, 1, in});
              offset += out;
            }
          }
        }(),
        ...);
  }(std::make_index_sequence<Net::depth + 1>{});
  return tensors;
}

/// Offset of the tensor `name_suffix` ("weight" or "bias") of layer `layer`, or −1 if it has none.
inline long long tensor_offset(const std::vector<parameter_tensor>& tensors, std::size_t layer, const std::string& name_suffix) {
  for (const auto& t : tensors)
    if (t.layer == layer && t.name.size() > name_suffix.size() &&
        t.name.compare(t.name.size() - name_suffix.size(), name_suffix.size(), name_suffix) == 0)
      return t.offset;
  return -1;
}

/// PyTorch nn.Linear's default: kaiming_uniform(a = √5) for W and U(−1/√fan_in, 1/√fan_in) for b, both bound 1/√in.
inline void initialise_parameters(const std::vector<parameter_tensor>& tensors, float* params, uniform01& uniform) {
  for (const auto& t : tensors) {
    const float bound = 1.f / std::sqrt(static_cast<float>(t.fan_in));
    for (long long i = 0; i < t.size; ++i) params[t.offset + i] = bound * (2.f * uniform() - 1.f);
  }
}

}  // namespace spikefuse
