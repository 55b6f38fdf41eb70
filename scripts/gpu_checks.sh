#!/usr/bin/env bash
# Every GPU check of spikefuse in one call (at most BUDGET_S = 570 s; about 2-3 minutes plus racecheck on an
# H200), for a lent GPU machine:
#   here:   bash scripts/gpu_bundle.sh                     # builds gpu-bundle/ (binaries + data)
#   there:  bash scripts/gpu_checks.sh                     # device tool: carry ["gpu-bundle"]
# Runs, writing logs, JSON and one Markdown summary (device, date, commit, commands) to $OUT (device
# tool) or bench/results/gpu-<date>/:
#   0. test_cudnn_loader  whether cuDNN 9 loads here (every entry point and sub-library)
#   1. test_cuda_neuron   every neuron kernel against the CPU reference (bit-exact spikes, v, trace)
#   2. test_cuda_model    CUDA backend against the CPU backend: per-step spikes, gradients, weights after
#                         20 updates, plain launches and CUDA graphs, launch counts, error paths
#      test_cuda_spike_bits  the neuron kernels keeping spike bits against the same keeping ψ (bit-identical
#                         ∂x; every warp-packing width), also under memcheck and synccheck
#      test_cuda_channel_reductions  BatchNorm and the bias-gradient sums split among blocks against the CPU
#                         (the layers' split and forced ones up to 64 ranges), also under memcheck,
#                         racecheck and synccheck
#   3. compute-sanitizer  memcheck and racecheck on both tests (the model test in its --quick and --race modes;
#                         its racecheck runs last, with the time that is left)
#   4. cuda_neuron_bandwidth   fused LIF kernels vs device copy vs unfused, 64K..64M neurons
#   5. cuda_train_step    Fashion-MNIST MLP step time with/without graphs, T = 4/16/64, memory, launches
#   6. cuda_conv_train_step   OTTT VGG-11-WS (batch 128, T = 2/6/12) and SLTT ResNet-18 (T = 6), fp32 and tf32
#   7. fashion_mnist_mlp  one epoch of the default network on the GPU (when the bundle has the data)
#   8. fashion_mnist_csnn the convolutional network on 10,000 training images on the GPU
# Without gpu-bundle/ it tries to build with CMake here (needs Boost and OpenBLAS, which the GPU
# machine lacks), so build the bundle first.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-bench/results/gpu-$(date -u +%F)}"
mkdir -p "$out"
summary="$out/gpu_checks.md"
bundle=gpu-bundle
status=0
export PATH="$PATH:/usr/local/cuda/bin"
if ! nvidia-smi -L > /dev/null 2>&1; then
  echo "no GPU on this machine (nvidia-smi -L fails): the CUDA tests would only compile-check; run this on a GPU machine" | tee "$summary"
  exit 2
fi

if [[ -f "$bundle/binaries.tar.xz" && ! -d "$bundle/bin" ]]; then
  # Python's tarfile reads xz even where the xz tool is missing.
  python3 -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle/binaries.tar.xz" "$bundle"
fi
if [[ -d "$bundle/bin" ]]; then
  bin="$bundle/bin"
  commit="$(cat "$bundle/COMMIT")"
  export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  # cuBLAS from the toolkit, else from PyTorch's pip wheels; libgomp from the system, else the bundle.
  for d in /usr/local/lib/python3*/dist-packages/nvidia/cublas/lib /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu*/lib; do
    [[ -d "$d" ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
  done
  ldconfig -p 2>/dev/null | grep -q libgomp.so.1 || LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$PWD/$bundle/lib"
else
  build="${BUILD_DIR:-build-gpu}"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEFUSE_CUDA=ON > "$out/configure.log" 2>&1 &&
    cmake --build "$build" -j "$(nproc)" --target test_cuda_neuron test_cuda_model test_cuda_spike_bits test_cuda_channel_reductions test_cudnn_loader cuda_neuron_bandwidth cuda_train_step \
      cuda_conv_train_step fashion_mnist_mlp fashion_mnist_csnn >> "$out/configure.log" 2>&1 || { echo "build failed: see $out/configure.log"; tail -20 "$out/configure.log"; exit 1; }
  mkdir -p "$build/all" && cp "$build"/tests/cuda/test_cuda_* "$build"/bench/cuda_* "$build"/examples/fashion_mnist_mlp "$build"/examples/fashion_mnist_csnn \
    "$build/all/"
  bin="$build/all"
  commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
fi

{
  echo "# spikefuse GPU checks"
  echo
  echo "- date: $(date -u '+%F %T UTC')"
  echo "- commit: $commit"
  echo "- device: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
  echo "- CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- command: \`bash scripts/gpu_checks.sh\` (binaries from \`$bin\`)"
  echo
} > "$summary"

# BUDGET_S (default 570) bounds the whole script, so one device call always returns the summary: each
# step runs within min(its own limit, what is left of the budget).
budget="${BUDGET_S:-570}"
step() {  # step NAME TIMEOUT COMMAND...: run with a time limit, log, record pass/fail
  local name="$1" limit="$2"; shift 2
  local left=$((budget - SECONDS - 10))
  (( left < limit )) && limit=$(( left > 1 ? left : 1 ))
  local log="$out/${name}.log"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$log" 2>&1
  local rc=$?
  echo "- $name: $([[ $rc -eq 0 ]] && echo PASS || echo "FAIL (exit $rc)") in $((SECONDS - t0)) s — \`$*\`" >> "$summary"
  tail -n 6 "$log" | sed 's/^/      /' >> "$summary"
  [[ $rc -eq 0 ]] || status=1
  echo "$name: exit $rc ($((SECONDS - t0)) s)"
}

sanitize() {  # sanitize TOOL NAME TIMEOUT COMMAND...
  local tool="$1" name="$2"; shift 2
  local limit="$1"; shift
  step "sanitizer_${tool}_${name}" "$limit" compute-sanitizer --tool "$tool" --error-exitcode 9 "$@"
}

# First, in seconds: whether cuDNN loads on this machine (the cuDNN cases of the model test and the
# cuDNN rows of the benchmarks need it).
[[ -x "$bin/test_cudnn_loader" ]] && step test_cudnn_loader 10 "$bin/test_cudnn_loader"
step test_cuda_neuron 35 "$bin/test_cuda_neuron"
step test_cuda_model 110 "$bin/test_cuda_model"
step test_cuda_spike_bits 30 "$bin/test_cuda_spike_bits"
sanitize memcheck spike_bits 40 "$bin/test_cuda_spike_bits"
sanitize synccheck spike_bits 40 "$bin/test_cuda_spike_bits"
step test_cuda_channel_reductions 20 "$bin/test_cuda_channel_reductions"
sanitize memcheck channel_reductions 30 "$bin/test_cuda_channel_reductions"
sanitize racecheck channel_reductions 30 "$bin/test_cuda_channel_reductions"
sanitize synccheck channel_reductions 20 "$bin/test_cuda_channel_reductions"
sanitize memcheck neuron 30 "$bin/test_cuda_neuron"
sanitize racecheck neuron 30 "$bin/test_cuda_neuron"
sanitize memcheck model 60 "$bin/test_cuda_model" --quick
step bench_neuron_bandwidth 60 "$bin/cuda_neuron_bandwidth" "$out/neuron_bandwidth.json"
step bench_train_step 60 "$bin/cuda_train_step" "$out/train_step.json"
step bench_conv_train_step 60 "$bin/cuda_conv_train_step" "$out/conv_train_step.json"
if compgen -G "$bundle/data/*.gz" > /dev/null; then
  step train_fashion_mnist_1_epoch 35 "$bin/fashion_mnist_mlp" --device cuda --epochs 1 --data-dir "$bundle/data" \
    --out-dir /tmp/sf_gpu_run --quiet
  step train_fashion_mnist_csnn_10k 25 "$bin/fashion_mnist_csnn" --device cuda --epochs 1 --limit-train 10000 \
    --data-dir "$bundle/data" --out-dir /tmp/sf_gpu_csnn --quiet
fi
# racecheck instruments every shared-memory access: the slowest check (over 60 s on an H200 on
# 2026-11-27), so it runs last, with what is left.
sanitize racecheck model 240 "$bin/test_cuda_model" --race
echo >> "$summary"
echo "overall: $([[ $status -eq 0 ]] && echo PASS || echo FAIL)" >> "$summary"
# The device tool brings back at most 8 files from $OUT: the summary and the JSON stay as they are, the
# step logs travel as one archive (bench/results keeps it; tar -xzf logs.tar.gz reads them).
(cd "$out" && tar -czf logs.tar.gz ./*.log && rm -f ./*.log)
cat "$summary"
exit $status
