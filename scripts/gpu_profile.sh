#!/usr/bin/env bash
# Where a training step's GPU time goes: Nsight Compute's duration of every kernel of a short run of the
# comparison workloads (bench/compare/spikefuse_worker), one CSV row per launch, for a lent GPU machine:
#   here:   bash scripts/gpu_bundle.sh
#   there:  bash scripts/gpu_profile.sh [SECONDS]           # device tool: carry ["gpu-bundle"]
#   here:   python3 bench/kernel_breakdown.py <out>/ncu_profile.tar.gz   # GPU time per kernel family, per workload
# ncu runs with --clock-control none (the clocks stay as the benchmarks see them) and collects only
# gpu__time_duration, one replay pass per kernel. Kernels run one at a time under ncu, so the sum is
# the step's GPU work without launch gaps or overlap; the step time itself comes from bench/compare.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-bench/results/gpu-profile-$(date -u +%F)}"
budget="${1:-240}"
mkdir -p "$out"
bundle=gpu-bundle
if [[ -f "$bundle/binaries.tar.xz" && ! -d "$bundle/bin" ]]; then
  python3 -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle/binaries.tar.xz" "$bundle"
fi
export PATH="$PATH:/usr/local/cuda/bin"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
for d in /usr/local/lib/python3*/dist-packages/nvidia/cublas/lib /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu*/lib; do
  [[ -d "$d" ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
ldconfig -p 2>/dev/null | grep -q libgomp.so.1 || LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$PWD/$bundle/lib"
ncu="$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
echo "device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1); commit $(cat "$bundle/COMMIT"); ncu: $ncu"
profile() {  # profile NAME SECONDS WORKER-ARGS...: one warm-up batch and one timed batch of T = 2
  local name="$1" limit="$2"; shift 2
  local left=$((budget - SECONDS - 5))
  (( left < limit )) && limit=$(( left > 1 ? left : 1 ))
  timeout "$limit" "$ncu" --clock-control none --metrics gpu__time_duration.sum --csv --page raw \
    "$bundle/bin/spikefuse_worker" --device cuda --warmup 1 --reps 1 --T 2 "$@" > "$out/ncu_$name.csv" 2>> "$out/ncu_stderr.log"
  echo "$name: exit $? ($(wc -l < "$out/ncu_$name.csv") lines)"
}
profile vgg11ws_ottt_fp32 100 --workload vgg11ws --rule ottt --batch 128
profile resnet18_sltt_fp32 100 --workload resnet18 --rule sltt --batch 128
profile csnn_ottt_fp32 40 --workload csnn --rule ottt --batch 128
profile vgg11ws_ottt_fp32_cudnn 100 --workload vgg11ws --rule ottt --batch 128 --conv cudnn
grep -v "^==PROF==" "$out/ncu_stderr.log" | tail -20
# One archive: the device tool brings back at most 8 files, and gpu_checks.sh may share the folder.
(cd "$out" && tar -czf ncu_profile.tar.gz ncu_*.csv ncu_stderr.log && rm -f ncu_*.csv ncu_stderr.log)
ls -la "$out"
