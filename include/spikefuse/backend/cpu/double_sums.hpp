// Σᵢ termₖ(i) in double for K sums at once, each as eight interleaved partial sums added pairwise at the end.
//
// One running double sum waits on every add's latency and stays scalar; eight independent partial
// sums are eight add chains, which the compiler turns into vector adds. The order differs from one
// running sum only by double rounding, far below the float the sums end up in. Used for the channel
// sums of BatchNorm and of the convolution's bias gradient.
#pragma once

#include <array>

namespace spikefuse::cpu {

template <int K>
class double_sums {
 public:
  static constexpr int lanes = 8;

  /// Adds term(i) for i in [0, n); `term(i)` returns std::array<double, K>, one term per sum.
  template <class Term>
  void add(long long n, Term term) {
    long long i = 0;
    for (; i + lanes <= n; i += lanes)
      for (int l = 0; l < lanes; ++l) {
        const std::array<double, K> t = term(i + l);
        for (int k = 0; k < K; ++k) partial_[k][l] += t[k];
      }
    for (int l = 0; l < lanes && i + l < n; ++l) {
      const std::array<double, K> t = term(i + l);
      for (int k = 0; k < K; ++k) partial_[k][l] += t[k];
    }
  }

  std::array<double, K> totals() const {
    std::array<double, K> out{};
    for (int k = 0; k < K; ++k) {
      const double* p = partial_[k];
      out[k] = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    }
    return out;
  }

 private:
  double partial_[K][lanes] = {};
};

}  // namespace spikefuse::cpu
