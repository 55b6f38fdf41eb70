#!/usr/bin/env bash
# scripts/gpu_session.sh without a GPU: a bundle of this build's binaries (the targets scripts/gpu_bundle.sh
# packs) and a stand-in nvidia-smi run the parts that need no SpikingJelly. The binaries find no GPU (the
# devices are hidden with CUDA_VISIBLE_DEVICES=, also on a machine that has one) and say so; what is checked is the plumbing a lent GPU's few minutes depend on: every binary the session runs is
# in the bundle, every step leaves a line in summary.md and a log in results.tar.gz, the SpikingJelly parts
# say why they were skipped, a bad part name is refused, and scripts/gpu_import.sh files the results.
#   gpu_session_plumbing.sh BUILD_DIR
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:?usage: gpu_session_plumbing.sh BUILD_DIR}" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bundle="$tmp/gpu-bundle"
mkdir -p "$bundle/bin" "$tmp/path"
targets="$(sed -n '/^targets=(/,/)/p' "$src/scripts/gpu_bundle.sh" | sed 's/targets=(//; s/)//')"
[[ -n "$targets" ]] || fail "no targets=(...) list in scripts/gpu_bundle.sh"
for t in $targets; do
  f="$(find "$build" -type f -name "$t" -perm -u+x | head -1)"
  [[ -n "$f" ]] || fail "the bundle target $t is not built in $build"
  ln -s "$f" "$bundle/bin/$t"
done
for b in $(grep -o '\$bin/[a-z0-9_]*' "$src/scripts/gpu_session.sh" | sort -u | sed 's/\$bin\///'); do
  [[ -e "$bundle/bin/$b" ]] || fail "scripts/gpu_session.sh runs $b, which scripts/gpu_bundle.sh does not pack"
done
echo 0123456789abcdef0123456789abcdef01234567 > "$bundle/COMMIT"
cat > "$tmp/path/nvidia-smi" <<'SMI'
#!/bin/sh
case "$1" in -L) echo "GPU 0: stand-in (no GPU)";; *) echo "stand-in, 0, 0 MiB, 0 MHz";; esac
SMI
# compute-sanitizer and ncu stand-ins run the program they are given, without their tools.
for tool in compute-sanitizer ncu; do
  cat > "$tmp/path/$tool" <<'TOOL'
#!/bin/bash
while [[ $# -gt 0 && ! -x "$1" ]]; do shift; done
exec "$@"
TOOL
done
chmod +x "$tmp/path/"*

cd "$tmp"
rc=0
CUDA_VISIBLE_DEVICES= PATH="$tmp/path:$PATH" BUNDLE="$bundle" OUT="$tmp/out" BUDGET_S=120 bash "$src/scripts/gpu_session.sh" bogus > bad.log 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "unknown part 'bogus'" bad.log || fail "an unknown part should be refused with exit 2 (got $rc)"

# Without SpikingJelly's wheels its parts say so and are skipped.
rc=0
CUDA_VISIBLE_DEVICES= PATH="$tmp/path:$PATH" BUNDLE="$bundle" OUT="$tmp/no_sj" BUDGET_S=60 bash "$src/scripts/gpu_session.sh" compare anchors \
  > no_sj.log 2>&1 || rc=$?
[[ $rc -le 1 ]] || { cat no_sj.log; fail "gpu_session.sh compare anchors exited $rc"; }
for s in compare anchors_spikingjelly; do
  grep -q "^- $s: SKIPPED (no SpikingJelly)" "$tmp/no_sj/summary.md" || fail "$s should say it was skipped for want of SpikingJelly"
done

# Every part; the SpikingJelly parts run too (their workers fail here without torch or a GPU, as rows).
rc=0
CUDA_VISIBLE_DEVICES= PATH="$tmp/path:$PATH" BUNDLE="$bundle" OUT="$tmp/out" BUDGET_S=240 GPU_SESSION_RUN_SJ_PARTS=1 bash "$src/scripts/gpu_session.sh" \
  > session.log 2>&1 || rc=$?
[[ $rc -le 1 ]] || { cat session.log; fail "gpu_session.sh exited $rc"; }
summary="$tmp/out/summary.md"
[[ -f "$summary" && -f "$tmp/out/results.tar.gz" ]] || fail "no summary.md and results.tar.gz in \$OUT"
[[ "$(ls "$tmp/out")" == "$(printf 'results.tar.gz\nsummary.md')" ]] || fail "\$OUT should hold summary.md and results.tar.gz only: $(ls "$tmp/out")"
grep -q "^- commit: 0123456789abcdef" "$summary" || fail "the summary names no commit"
tar -tzf "$tmp/out/results.tar.gz" > archived.txt
for s in test_cudnn_loader test_cuda_neuron test_cuda_model test_cuda_spike_bits test_cuda_channel_reductions \
         sanitizer_memcheck_neuron sanitizer_racecheck_model compare conv_train_step profile_vgg11ws_ottt_fp32 \
         profile_csnn_ottt_fp32 sweep neuron_bandwidth train_step compare_tf32 anchors anchor_sj_linear_lif_4096 \
         anchor_sj_neuron_only; do
  grep -q "^- $s: \(PASS\|FAIL\)" "$summary" || fail "no result line for $s"
  grep -q "^results/$s.log$" archived.txt || fail "no log of $s in results.tar.gz"
done
# Without a GPU here the CUDA tests must fail, not skip: the script requires a device.
for s in test_cuda_neuron test_cuda_model test_cuda_spike_bits test_cuda_channel_reductions; do
  grep -A6 "^- $s: FAIL (exit 1)" "$summary" | grep -q "SPIKEFUSE_REQUIRE_GPU=1" ||
    fail "$s should fail for want of a device under SPIKEFUSE_REQUIRE_GPU=1"
done
# The wrappers wrote where they should: run.py's table and rows, the profiler's CSV.
for f in compare.md compare.json sweep.json compare_tf32.json ncu_vgg11ws_ottt_fp32.csv; do
  grep -q "^results/$f$" archived.txt || fail "no $f in results.tar.gz"
done
grep -q "python3 bench/compare/run.py --device cuda [^\`]* --workloads abcd --conv im2col,cudnn" "$summary" ||
  fail "the compare step's command line is not in the summary"
grep -q "^overall: " "$summary" || fail "no overall line"

RESULTS_DIR="$(realpath --relative-to="$src" "$tmp/imported")" bash "$src/scripts/gpu_import.sh" "$tmp/out" > import.log 2>&1 ||
  { cat import.log; fail "gpu_import.sh failed"; }
day="$(sed -n 's/^- date: \([0-9-]*\).*/\1/p' "$summary")"
[[ -f "$tmp/imported/gpu-$day-01234567/summary.md" && -f "$tmp/imported/gpu-$day-01234567/results.tar.gz" ]] ||
  fail "gpu_import.sh did not file the results under gpu-$day-01234567/"
echo "gpu_session.sh plumbing: bundle complete, every step reported and archived, results imported"
