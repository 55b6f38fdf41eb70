#!/usr/bin/env bash
# Every GPU check and benchmark of spikefuse, in one device call: the parts run most-wanted first, each
# within min(its own cap, what is left of BUDGET_S), so a call always returns its summary in time.
#   here:   bash scripts/gpu_bundle.sh                           # gpu-bundle/: binaries, data, SpikingJelly wheels
#   there:  BUDGET_S=360 bash scripts/gpu_session.sh [PART ...]  # device run: carry ["gpu-bundle"], timeout_s >= BUDGET_S + 60
#   here:   bash scripts/gpu_import.sh <files_at of that call>   # into bench/results/gpu-<date>-<commit>/
# A lent GPU gives a session 15 minutes, its start (a minute or two) included. A first call of 360 s runs
# the parts in the order below as far as they fit; a second call can run what it did not reach, e.g.
# `BUDGET_S=<budget_left_s - 90> bash scripts/gpu_session.sh sweep tf32 anchors` with timeout_s = BUDGET_S + 45.
# A step cut short by the budget is reported as CUT SHORT, not as a failure.
# PARTS, in the default order (all of them without arguments):
#   tests      test_cudnn_loader (does cuDNN 9 load here), test_cuda_neuron (every neuron kernel against the CPU,
#              bit-exact spikes, v, trace), test_cuda_model (CUDA backend against the CPU backend: per-step spikes,
#              gradients, weights after 20 updates, plain launches and CUDA graphs, im2col and cuDNN, launch counts,
#              error paths), test_cuda_spike_bits, test_cuda_channel_reductions
#   sanitize   compute-sanitizer memcheck / racecheck / synccheck on the short tests, memcheck on the model test --quick
#   compare    bench/compare/run.py workloads a-d, fp32: spikefuse (im2col and cuDNN convolutions) against SpikingJelly
#   conv_step  cuda_conv_train_step: VGG-11-WS and ResNet-18 steps, fp32 / tf32, im2col chunks of 16 / 32 / 64 MiB, cuDNN
#   profile    Nsight Compute: every kernel's duration in two batches of T = 2 of VGG-11-WS (im2col, cuDNN), ResNet-18
#              and the CSNN (bench/kernel_breakdown.py reads the archive)
#   sweep      workload e: memory and time against T for spikefuse OTTT (both paths), SpikingJelly OTTT and BPTT
#   steps      cuda_neuron_bandwidth, cuda_train_step, one epoch of the default MLP, the CSNN on 10,000 images
#   tf32       workloads c and d with TF32 tensor cores on both sides (cuDNN on spikefuse's side)
#   anchors    cuda_anchors (neuron only; Linear n->n + LIF) and SpikingJelly's fastest backend on the same shapes
#   racecheck  compute-sanitizer racecheck of the model test (--race: 4 updates per case), the slowest check
# Writes to $OUT (device tool) or bench/results/gpu-<date>/ two files, within the 8 the device tool brings back
# (the steps write into a folder outside $OUT, archived after every part, so a call killed early still
# returns the summary and the archive of the parts it finished):
#   summary.md      device, date, commit, and for each step PASS / FAIL, its time, command and the tail of its log
#   results.tar.gz  every JSON, Markdown table, log and Nsight Compute CSV the steps wrote
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
all_parts=(tests sanitize compare conv_step profile sweep steps tf32 anchors racecheck)
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=("${all_parts[@]}")
for p in "${parts[@]}"; do
  [[ " ${all_parts[*]} " == *" $p "* ]] || { echo "unknown part '$p'; parts: ${all_parts[*]}"; exit 2; }
done
out="${OUT:-bench/results/gpu-$(date -u +%F)}"
bundle="${BUNDLE:-gpu-bundle}"
work="$(mktemp -d)/results"
mkdir -p "$work" "$out"
summary="$out/summary.md"
budget="${BUDGET_S:-360}"
export PATH="$PATH:/usr/local/cuda/bin"
if ! nvidia-smi -L > /dev/null 2>&1; then
  echo "no GPU on this machine (nvidia-smi -L fails): run this on a lent GPU machine" | tee "$summary"
  exit 2
fi
if [[ -f "$bundle/binaries.tar.xz" && ! -d "$bundle/bin" ]]; then
  # Python's tarfile reads xz where the xz tool is missing.
  python3 -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle/binaries.tar.xz" "$bundle"
fi
[[ -d "$bundle/bin" ]] || { echo "no $bundle/bin: build the bundle here first (bash scripts/gpu_bundle.sh) and carry it" | tee "$summary"; exit 1; }
bin="$bundle/bin"
commit="$(cat "$bundle/COMMIT" 2>/dev/null || echo unknown)"
# cuBLAS and cuDNN from the toolkit, else from PyTorch's pip wheels; libgomp from the system, else the bundle's copy.
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
for d in /usr/local/lib/python3*/dist-packages/nvidia/cu*/lib /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu*/lib; do
  [[ -d "$d" ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
ldconfig -p 2>/dev/null | grep -q libgomp.so.1 || LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(cd "$bundle" && pwd)/lib"
# bench/compare/run.py looks for the worker in <build>/bench/.
mkdir -p "$bundle/build/bench" && cp "$bin/spikefuse_worker" "$bundle/build/bench/"
# SpikingJelly: the GPU machine has PyTorch, not SpikingJelly; the bundle carries its pure-Python wheels.
sj=0
if [[ "${GPU_SESSION_RUN_SJ_PARTS:-}" == 1 ]]; then
  sj=1  # tests/scripts/gpu_session_plumbing.sh: run the SpikingJelly parts' plumbing without the wheels
elif compgen -G "$bundle/wheels/*.whl" > /dev/null &&
   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$bundle"/wheels/*.whl; then
  export PYTHONPATH=/tmp/site
  sj=1
fi

{
  echo "# spikefuse GPU session"
  echo
  echo "- date: $(date -u '+%F %T UTC')"
  echo "- commit: $commit"
  echo "- device: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
  echo "- CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- command: \`BUDGET_S=$budget bash scripts/gpu_session.sh ${parts[*]}\` (binaries from \`$bin\`)"
  [[ $sj -eq 1 ]] || echo "- SpikingJelly: no wheels in $bundle/wheels, or they did not install: its side of every comparison is skipped"
  echo
} > "$summary"

# On the GPU machine cuDNN must load (PyTorch's wheels carry it): the cuDNN cases of the tests fail instead of
# skipping when it does not.
export SPIKEFUSE_REQUIRE_CUDNN=1
# And the CUDA tests fail instead of skipping (exit 77) when no device answers (a driver that does not load).
export SPIKEFUSE_REQUIRE_GPU=1
status=0
step() {  # [SHOWN=TEXT] step NAME CAP COMMAND...: run within min(CAP, what is left), log to results/NAME.log, record
           # PASS / FAIL with the command (or TEXT) in the summary
  local name="$1" cap="$2"; shift 2
  local shown="${SHOWN:-$*}"
  local left=$((budget - SECONDS - 15))
  if (( left < 5 )); then
    echo "- $name: SKIPPED (the budget of $budget s is spent)" >> "$summary"
    echo "$name: skipped (budget spent)"
    return
  fi
  local cut=0
  (( left < cap )) && { cap=$left; cut=1; }
  local log="$work/$name.log" t0=$SECONDS
  timeout --kill-after=5 "$cap" "$@" > "$log" 2>&1
  local rc=$?
  local verdict="PASS"
  if [[ $rc -eq 124 || $rc -eq 137 ]] && (( cut )); then
    verdict="CUT SHORT (the budget left it $cap s)"  # not a failure: what it measured is in its log and files
  elif [[ $rc -ne 0 ]]; then
    verdict="FAIL (exit $rc$([[ $rc -eq 124 || $rc -eq 137 ]] && echo ", stopped at its limit of $cap s"))"
    status=1
  fi
  echo "- $name: $verdict in $((SECONDS - t0)) s — \`$shown\`" >> "$summary"
  tail -n 6 "$log" | sed 's/^/      /' >> "$summary"
  echo "$name: exit $rc ($((SECONDS - t0)) s)"
}
sanitize() {  # sanitize TOOL NAME CAP COMMAND...
  local tool="$1" name="$2" cap="$3"; shift 3
  step "sanitizer_${tool}_${name}" "$cap" compute-sanitizer --tool "$tool" --error-exitcode 9 "$@"
}
needs_sj() {  # the parts that compare with SpikingJelly say so in the summary when it is missing
  [[ $sj -eq 1 ]] && return 0
  echo "- $1: SKIPPED (no SpikingJelly)" >> "$summary"
  return 1
}
compare() {  # compare NAME CAP RUN.PY-ARGS...: bench/compare/run.py on the GPU, raw rows in NAME.json, table in NAME.md
  local name="$1" cap="$2"; shift 2
  local args=(--device cuda --build "$bundle/build" --commit "${commit:0:12}" --timeout 90 --out "$work/$name.json" "$@")
  SHOWN="python3 bench/compare/run.py ${args[*]}" \
    step "$name" "$cap" bash -c 'set -o pipefail; md="$1"; shift; python3 bench/compare/run.py "$@" | tee "$md"' _ "$work/$name.md" \
    "${args[@]}"
}
profile() {  # profile NAME CAP WORKER-ARGS...: one warm-up batch and one timed batch of T = 2 under Nsight Compute
  local name="$1" cap="$2"; shift 2
  local ncu
  ncu="$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
  [[ -n "$ncu" ]] || { echo "- profile_$name: SKIPPED (no ncu)" >> "$summary"; return; }
  # ncu's own messages go to the step's log, the CSV (one row per launch) to its own file.
  local args=("$ncu" --clock-control none --metrics gpu__time_duration.sum --csv --page raw
              "$bin/spikefuse_worker" --device cuda --warmup 1 --reps 1 --T 2 "$@")
  SHOWN="${args[*]} > ncu_$name.csv" step "profile_$name" "$cap" bash -c 'csv="$1"; shift; "$@" > "$csv"' _ "$work/ncu_$name.csv" "${args[@]}"
}
sj_anchor() {  # sj_anchor NAME SJ_WORKER-ARGS...: SpikingJelly's fastest backend (BPTT) on an anchor's shapes, one JSON line
  local name="$1"; shift
  local args=("$@" --rule bptt --reps 10 --warmup 2 --device cuda)
  SHOWN="python3 bench/compare/sj_worker.py ${args[*]} >> anchors_sj.jsonl" step "anchor_sj_$name" 40 \
    bash -c 'jsonl="$1"; shift; python3 bench/compare/sj_worker.py "$@" >> "$jsonl"' _ "$work/anchors_sj.jsonl" "${args[@]}"
}

archive() {  # the results so far, into $OUT (replaced after every part)
  tar -C "$(dirname "$work")" -czf "$out/results.tar.gz.part" results && mv "$out/results.tar.gz.part" "$out/results.tar.gz"
}

for part in "${parts[@]}"; do
  case "$part" in
    tests)
      [[ -x "$bin/test_cudnn_loader" ]] && step test_cudnn_loader 15 "$bin/test_cudnn_loader"
      step test_cuda_neuron 35 "$bin/test_cuda_neuron"
      step test_cuda_model 120 "$bin/test_cuda_model"
      step test_cuda_spike_bits 30 "$bin/test_cuda_spike_bits"
      step test_cuda_channel_reductions 20 "$bin/test_cuda_channel_reductions" ;;
    sanitize)
      sanitize memcheck neuron 30 "$bin/test_cuda_neuron"
      sanitize racecheck neuron 30 "$bin/test_cuda_neuron"
      sanitize memcheck spike_bits 40 "$bin/test_cuda_spike_bits"
      sanitize synccheck spike_bits 40 "$bin/test_cuda_spike_bits"
      sanitize memcheck channel_reductions 30 "$bin/test_cuda_channel_reductions"
      sanitize racecheck channel_reductions 30 "$bin/test_cuda_channel_reductions"
      sanitize synccheck channel_reductions 20 "$bin/test_cuda_channel_reductions"
      sanitize memcheck model 60 "$bin/test_cuda_model" --quick ;;
    compare)
      needs_sj compare && compare compare 200 --workloads abcd --conv im2col,cudnn --reps 20 --warmup 3 ;;
    conv_step)
      step conv_train_step 90 "$bin/cuda_conv_train_step" "$work/conv_train_step.json" ;;
    profile)
      profile vgg11ws_ottt_fp32 60 --workload vgg11ws --rule ottt --batch 128
      profile vgg11ws_ottt_fp32_cudnn 60 --workload vgg11ws --rule ottt --batch 128 --conv cudnn
      profile resnet18_sltt_fp32 80 --workload resnet18 --rule sltt --batch 128
      profile csnn_ottt_fp32 30 --workload csnn --rule ottt --batch 128 ;;
    sweep)
      needs_sj sweep && compare sweep 240 --workloads e --conv im2col,cudnn --reps 20 --warmup 2 --sweep-reps 10 ;;
    steps)
      step neuron_bandwidth 60 "$bin/cuda_neuron_bandwidth" "$work/neuron_bandwidth.json"
      step train_step 60 "$bin/cuda_train_step" "$work/train_step.json"
      if compgen -G "$bundle/data/*.gz" > /dev/null; then
        step train_fashion_mnist_1_epoch 35 "$bin/fashion_mnist_mlp" --device cuda --epochs 1 --data-dir "$bundle/data" \
          --out-dir /tmp/sf_gpu_mlp --quiet
        step train_fashion_mnist_csnn_10k 25 "$bin/fashion_mnist_csnn" --device cuda --epochs 1 --limit-train 10000 \
          --data-dir "$bundle/data" --out-dir /tmp/sf_gpu_csnn --quiet
      fi ;;
    tf32)
      needs_sj tf32 && compare compare_tf32 120 --workloads cd --conv cudnn --precision tf32 --reps 20 --warmup 3 ;;
    anchors)
      step anchors 90 "$bin/cuda_anchors" "$work/anchors.json"
      if needs_sj anchors_spikingjelly; then
        sj_anchor linear_lif_4096 --workload linear_lif --batch 16 --T 500 --n 4096
        sj_anchor linear_lif_16384 --workload linear_lif --batch 16 --T 500 --n 16384
        sj_anchor neuron_only --workload neuron_only --batch 64 --T 32 --n 65536
      fi ;;
    racecheck)
      # racecheck instruments every shared-memory access: over 60 s for the model test on an H200 (2026-11-27).
      sanitize racecheck model 240 "$bin/test_cuda_model" --race ;;
  esac
  archive
done
echo >> "$summary"
echo "overall: $([[ $status -eq 0 ]] && echo PASS || echo FAIL) after $SECONDS s" >> "$summary"
archive && rm -rf "$(dirname "$work")"
cat "$summary"
exit $status
