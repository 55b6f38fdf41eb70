// One GEMM through a statically linked OpenBLAS, from code that calls no OpenMP itself (nvcc compiles
// it, as it does the GPU bundle's binaries).
#include <cstdio>

#include "spikefuse/backend/cpu/blas.hpp"

int main() {
  const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  float c[4] = {};
  spikefuse::cpu::gemm(spikefuse::cpu::transpose::no, spikefuse::cpu::transpose::no, 2, 2, 2, 1.f, a, 2, b, 2, 0.f, c, 2);
  const bool ok = c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50;
  std::printf("%s: [%g %g; %g %g]\n", ok ? "static OpenBLAS GEMM ok" : "wrong GEMM result", c[0], c[1], c[2], c[3]);
  return ok ? 0 : 1;
}
