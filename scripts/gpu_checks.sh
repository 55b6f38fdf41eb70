#!/usr/bin/env bash
# Every GPU check of spikefuse in one call, for a lent GPU machine (device tool):
#   bash scripts/gpu_checks.sh            # results under $OUT (device tool) or bench/results/gpu-<date>/
# Builds the CUDA tests with nvcc directly (the GPU machine has nvcc but no Boost; the CUDA tests
# need neither Boost nor BLAS), runs them, runs compute-sanitizer (memcheck, racecheck, initcheck,
# synccheck) on them, and writes one Markdown summary with device, date and commit.
# Commit: from git when the checkout has .git, else from $SPIKEFUSE_COMMIT.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-bench/results/gpu-$(date -u +%F)}"
mkdir -p "$out"
summary="$out/gpu_checks.md"
arch="${CUDA_ARCH:-90}"
commit="$(git rev-parse HEAD 2>/dev/null || echo "${SPIKEFUSE_COMMIT:-unknown}")"
status=0

{
  echo "# spikefuse GPU checks"
  echo
  echo "- date: $(date -u '+%F %T UTC')"
  echo "- commit: $commit"
  echo "- device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
  echo "- nvcc: $(nvcc --version 2>&1 | tail -1)"
  echo
} > "$summary"

step() {  # step NAME COMMAND...: run, log, record pass/fail
  local name="$1"; shift
  local log="$out/${name}.log"
  local t0=$SECONDS
  "$@" > "$log" 2>&1
  local rc=$?
  echo "- $name: $([[ $rc -eq 0 ]] && echo PASS || echo "FAIL (exit $rc)") in $((SECONDS - t0)) s — \`$*\`" >> "$summary"
  tail -n 5 "$log" | sed 's/^/      /' >> "$summary"
  [[ $rc -eq 0 ]] || status=1
}

bin="$(mktemp -d)"
step build_cuda_neuron nvcc -std=c++20 -O2 -Xcompiler=-ffp-contract=off -arch=sm_"$arch" -Iinclude tests/cuda/neuron_kernels.cu \
  -o "$bin/test_cuda_neuron"
if [[ -x "$bin/test_cuda_neuron" ]]; then
  step test_cuda_neuron "$bin/test_cuda_neuron"
  for tool in memcheck racecheck initcheck synccheck; do
    step "sanitizer_$tool" compute-sanitizer --tool "$tool" --error-exitcode 9 "$bin/test_cuda_neuron"
  done
fi
echo >> "$summary"
echo "overall: $([[ $status -eq 0 ]] && echo PASS || echo FAIL)" >> "$summary"
cat "$summary"
exit $status
