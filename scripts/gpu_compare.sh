#!/usr/bin/env bash
# Issue 5's GPU run in one device call (at most BUDGET_S seconds, default 540): spikefuse against SpikingJelly on the same
# GPU, and the kernel-level anchors.
#   here:   bash scripts/gpu_bundle.sh                    # binaries, data, SpikingJelly wheels
#   there:  bash scripts/gpu_compare.sh                   # device tool: carry ["gpu-bundle"]
# Writes to $OUT (device tool) or bench/results/gpu-compare-<date>/:
#   compare.json / compare.md   bench/compare/run.py --device cuda: workloads a-d, spikefuse vs SpikingJelly
#                               (torch backend for OTTT/SLTT; BPTT with its fastest multi-step backend)
#   compare_cudnn.json / .md    workloads c and d again with --conv cudnn (spikefuse's convolutions through cuDNN)
#   compare_tf32.json / .md     c and d with TF32 tensor cores on both sides (--precision tf32, cuDNN; PyTorch's
#                               default for convolutions), if time is left
#   anchors.json                cuda_anchors: neuron-only [32, 64, 65536] and Linear n->n + LIF (batch 16,
#                               T 500), spikefuse against copy bandwidth and cuBLAS
#   anchors_sj.jsonl            the same two configurations in SpikingJelly (fastest backend)
#   sweep.json / sweep.md       workload e, the T sweep, with the time that is left
#   tables.tar.gz               the .md tables above, in one archive (the device tool brings back 8 files at most)
# Then, here: python bench/compare/plot.py <out>/compare.json, and the tables into docs/benchmarks.md.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-bench/results/gpu-compare-$(date -u +%F)}"
mkdir -p "$out"
bundle=gpu-bundle
if ! nvidia-smi -L > /dev/null 2>&1; then
  echo "no GPU on this machine (nvidia-smi -L fails): run this on a GPU machine"
  exit 2
fi
if [[ -f "$bundle/binaries.tar.xz" && ! -d "$bundle/bin" ]]; then
  python3 -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle/binaries.tar.xz" "$bundle"
fi
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
for d in /usr/local/lib/python3*/dist-packages/nvidia/cublas/lib /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu*/lib; do
  [[ -d "$d" ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
ldconfig -p 2>/dev/null | grep -q libgomp.so.1 || LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$PWD/$bundle/lib"
# The worker where run.py looks for it: <build>/bench/spikefuse_worker.
mkdir -p "$bundle/build/bench" && cp "$bundle/bin/spikefuse_worker" "$bundle/build/bench/"
sj=1
if compgen -G "$bundle/wheels/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$bundle"/wheels/*.whl &&
    export PYTHONPATH=/tmp/site || sj=0
else
  sj=0
fi
echo "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
echo "commit: $(cat "$bundle/COMMIT" 2>/dev/null)"
# One device call may be cut short by the session's device time: BUDGET_S (default 540) is what this
# script may spend, and the steps run most-wanted first, each within min(its own cap, what is left).
budget="${BUDGET_S:-540}"
cap() { local left=$((budget - SECONDS - 5)); (( left < $1 )) && echo $(( left > 1 ? left : 1 )) || echo "$1"; }
commit12="$(head -c 12 "$bundle/COMMIT")"
if [[ $sj -eq 1 ]]; then
  # a-d: spikefuse against SpikingJelly, per batch (the JSON is written after every row).
  timeout "$(cap 240)" python3 bench/compare/run.py --device cuda --build "$bundle/build" --workloads abcd --reps 20 --warmup 3 \
    --timeout 60 --commit "$commit12" --out "$out/compare.json" | tee "$out/compare.md"
  # c, d again with spikefuse's convolutions through cuDNN (SpikingJelly's side is the same).
  timeout "$(cap 150)" python3 bench/compare/run.py --device cuda --build "$bundle/build" --workloads cd --conv cudnn --reps 20 \
    --warmup 3 --timeout 60 --commit "$commit12" --out "$out/compare_cudnn.json" | tee "$out/compare_cudnn.md"
  # c, d with TF32 on both sides: what a user of either library gets from the tensor cores.
  timeout "$(cap 120)" python3 bench/compare/run.py --device cuda --build "$bundle/build" --workloads cd --conv cudnn \
    --precision tf32 --reps 20 --warmup 3 --timeout 60 --commit "$commit12" --out "$out/compare_tf32.json" | tee "$out/compare_tf32.md"
fi
# (its table is in the output and in anchors.json: the tool brings back at most 8 files)
timeout "$(cap 90)" "$bundle/bin/cuda_anchors" "$out/anchors.json"
if [[ $sj -eq 1 ]]; then
  for n in 4096 16384; do
    timeout "$(cap 30)" python3 bench/compare/sj_worker.py --workload linear_lif --rule bptt --batch 16 --T 500 --n "$n" --reps 10 \
      --warmup 2 --device cuda >> "$out/anchors_sj.jsonl" || echo "linear_lif n=$n: SpikingJelly failed or timed out"
  done
  timeout "$(cap 30)" python3 bench/compare/sj_worker.py --workload neuron_only --rule bptt --batch 64 --T 32 --n 65536 --reps 10 \
    --warmup 2 --device cuda >> "$out/anchors_sj.jsonl" || echo "neuron_only: SpikingJelly failed or timed out"
  # e: the T sweep, with whatever time is left.
  timeout "$(cap 300)" python3 bench/compare/run.py --device cuda --build "$bundle/build" --workloads e --reps 20 --warmup 2 \
    --sweep-reps 10 --timeout 60 --commit "$commit12" --out "$out/sweep.json" | tee "$out/sweep.md"
else
  echo "no SpikingJelly wheels in $bundle/wheels: the comparison needs them (scripts/gpu_bundle.sh downloads them)"
fi
# The device tool brings back at most 8 files: the JSON as they are, the Markdown tables as one archive.
(cd "$out" && compgen -G "*.md" > /dev/null && tar -czf tables.tar.gz ./*.md && rm -f ./*.md)
ls -la "$out"
