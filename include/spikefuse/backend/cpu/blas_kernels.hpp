// C = α·op(A)·op(B) + β·C on the widest vectors this CPU has: OpenBLAS's kernel choice, corrected
// where its detection mistakes a CPU with AVX2 or AVX-512 for an SSE3-only one.
//
// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels when it is loaded, from the CPU's
// family and model. A model newer than the library (Debian 12 ships 0.3.21; Intel's Emerald Rapids,
// family 6 model 207, is one) gets the SSE3 "Prescott" kernels, and the convolutional networks'
// GEMMs run 3–4× slower (docs/design.md, "BLAS kernels"). Newer OpenBLAS falls back by the CPU's features instead;
// spikefuse does the same at start-up: if the library chose SSE3-only kernels, the CPU has AVX2 and
// FMA, and the user has not set OPENBLAS_CORETYPE, it re-runs OpenBLAS's own selection with the
// kernels for this CPU's features (OPENBLAS_CORETYPE, OpenBLAS's documented override). Setting
// OPENBLAS_CORETYPE (Prescott keeps the library's choice) leaves everything as it is.
#pragma once

#include <cblas.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <strings.h>

extern "C" {
// Exported by OpenBLAS builds with DYNAMIC_ARCH. Weak, so that a build without them links and
// keeps its kernels.
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace spikefuse::cpu {

/// The kernels OpenBLAS runs, and what its own detection chose when it was loaded.
struct blas_kernels {
  std::string core;      ///< e.g. "SkylakeX"
  std::string detected;  ///< the library's own choice; differs from `core` only after a correction

  bool corrected() const { return core != detected; }
  /// "OpenBLAS SkylakeX kernels (its detection chose SSE3-only Prescott on this CPU)".
  std::string describe() const {
    std::string text = "OpenBLAS " + core + " kernels";
    if (corrected()) text += " (its detection chose SSE3-only " + detected + " on this CPU)";
    return text;
  }
};

namespace detail {

inline bool same_core(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// OpenBLAS's x86-64 cores whose single-precision GEMM uses SSE registers only.
inline bool is_sse_only_core(std::string_view core) {
  for (std::string_view name : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Nano", "Opteron",
                                "Opteron_SSE3", "Barcelona", "Bobcat", "Katmai", "Coppermine", "Northwood", "Banias",
                                "Athlon"})
    if (same_core(core, name)) return true;
  return false;
}

/// The OpenBLAS core for this CPU's widest vectors, by the rule newer OpenBLAS applies to a CPU it
/// does not know; nullptr where that would not beat SSE3.
inline const char* core_for_cpu_features() {
#if defined(__x86_64__) && !defined(__CUDA_ARCH__)
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

/// Re-runs OpenBLAS's kernel selection as if OPENBLAS_CORETYPE were `core`; the variable is unset
/// again afterwards, so child processes see the environment the user gave.
inline void select_openblas_core(const char* core) {
  setenv("OPENBLAS_CORETYPE", core, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
}

inline blas_kernels correct_blas_kernels() {
  blas_kernels kernels;
  kernels.core = kernels.detected = openblas_get_corename();
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return kernels;  // the user's choice stands
  if (gotoblas_dynamic_init == nullptr || gotoblas_dynamic_quit == nullptr) return kernels;
  if (!is_sse_only_core(kernels.detected)) return kernels;
  const char* wanted = core_for_cpu_features();
  if (wanted == nullptr) return kernels;
  select_openblas_core(wanted);
  // A library that does not know the name keeps whatever it fell back to; go back to its own choice.
  if (!same_core(openblas_get_corename(), wanted)) select_openblas_core(kernels.detected.c_str());
  kernels.core = openblas_get_corename();
  return kernels;
}

}  // namespace detail

/// Initialised once, during static initialisation, before main: no thread of the program can be
/// inside a BLAS call while the kernels change. Binaries print `blas_kernels_in_use.describe()`.
inline const blas_kernels blas_kernels_in_use = detail::correct_blas_kernels();

}  // namespace spikefuse::cpu
