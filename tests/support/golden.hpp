// Golden-file reader: lines `<name> <ndims> <d0..> <values..>`, '#' comments (tests/golden/README.md).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikefuse::test {

struct tensor {
  std::vector<int> dims;
  std::vector<float> values;
  float operator[](std::size_t i) const { return values[i]; }
  std::size_t size() const { return values.size(); }
  float scalar() const { return values.at(0); }
};

class golden_file {
 public:
  explicit golden_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open golden file " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      std::string name;
      int ndims = 0;
      ls >> name >> ndims;
      tensor t;
      std::size_t count = 1;
      for (int i = 0; i < ndims; ++i) {
        int d = 0;
        ls >> d;
        t.dims.push_back(d);
        count *= static_cast<std::size_t>(d);
      }
      t.values.resize(count);
      for (auto& v : t.values) {
        std::string token;
        ls >> token;
        v = std::strtof(token.c_str(), nullptr);
      }
      if (!ls) throw std::runtime_error("golden file " + path + ": short tensor " + name);
      tensors_[name] = std::move(t);
    }
  }
  const tensor& operator[](const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("golden tensor missing: " + name);
    return it->second;
  }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

 private:
  std::map<std::string, tensor> tensors_;
};

/// max_i |a_i − b_i| / max(|b_i|, floor·‖b‖∞).
/// floor = 1 is the normwise relative error ‖a − b‖∞ / ‖b‖∞, the quantity float error analysis bounds
/// for sums (|fl(Σ) − Σ| ≤ γ_n Σ|terms|): an element that is small because its terms cancel keeps the
/// absolute error of its terms. A smaller floor tightens the check toward elementwise.
/// Sizes must agree: a shape mistake is an infinite error, not an out-of-bounds read.
inline double max_relative_error(std::span<const float> actual, const std::vector<float>& expected, double floor = 1.0) {
  if (actual.size() != expected.size()) return std::numeric_limits<double>::infinity();
  double scale = 0.0;
  for (const float e : expected) scale = std::max(scale, static_cast<double>(std::fabs(e)));
  const double smallest = std::max(floor * scale, 1e-30);
  double worst = 0.0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double err = std::fabs(static_cast<double>(actual[i]) - expected[i]);
    worst = std::max(worst, err / std::max(static_cast<double>(std::fabs(expected[i])), smallest));
  }
  return worst;
}

inline std::string golden_dir() { return SPIKEFUSE_GOLDEN_DIR; }

}  // namespace spikefuse::test
