#!/usr/bin/env bash
# Builds, HERE (the build machine: nvcc, Boost, OpenBLAS), everything the GPU checks run, into gpu-bundle/,
# ready to be carried to a lent GPU machine (which has the CUDA driver, toolkit and cuBLAS, but no Boost
# and no OpenBLAS):
#   bash scripts/gpu_bundle.sh        # then: device run, carry ["gpu-bundle"], command "bash scripts/gpu_session.sh"
# OpenBLAS is linked statically; the CUDA runtime statically; cuBLAS and libgomp come from the GPU
# machine (libgomp is also copied into gpu-bundle/lib as a fallback). The Fashion-MNIST files are
# copied too, for the short GPU training run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${BUILD_DIR:-build-gpu}"
bundle=gpu-bundle
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPIKEFUSE_CUDA=ON -DSPIKEFUSE_STATIC_BLAS=ON \
  -DSPIKEFUSE_BUILD_TESTS=ON -DSPIKEFUSE_BUILD_BENCH=ON > /dev/null
targets=(test_cuda_neuron test_cuda_model test_cuda_spike_bits test_cuda_channel_reductions test_cudnn_loader cuda_neuron_bandwidth cuda_train_step cuda_conv_train_step fashion_mnist_mlp
         fashion_mnist_csnn spikefuse_worker cuda_anchors)
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"
rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/data" "$bundle/wheels"
cp "$build/tests/cuda/test_cuda_neuron" "$build/tests/cuda/test_cuda_model" "$build/tests/cuda/test_cuda_spike_bits" "$build/tests/cuda/test_cuda_channel_reductions" "$build/tests/cuda/test_cudnn_loader" "$build/bench/cuda_neuron_bandwidth" \
   "$build/bench/cuda_train_step" "$build/bench/cuda_conv_train_step" "$build/examples/fashion_mnist_mlp" \
   "$build/examples/fashion_mnist_csnn" "$build/bench/spikefuse_worker" "$build/bench/cuda_anchors" "$bundle/bin/"
strip "$bundle"/bin/*
gomp="$(g++ -print-file-name=libgomp.so.1)"
[[ -f "$gomp" ]] && cp -L "$gomp" "$bundle/lib/"
cp /usr/share/datasets/fashion-mnist/*.gz "$bundle/data/" 2>/dev/null || echo "no Fashion-MNIST files: the GPU training run will be skipped"
# SpikingJelly for scripts/gpu_session.sh's comparisons (the GPU machine has PyTorch, Triton and CuPy, not SpikingJelly):
# pure-Python wheels of the version the reference venv holds, and the two of its needs the machine lacks.
sj_version="$("${SJ_PYTHON:-$HOME/sjvenv/bin/python}" -c 'import importlib.metadata as m; print(m.version("spikingjelly"))' 2>/dev/null || echo 2.0.0)"
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux2014_x86_64 -d "$bundle/wheels" "spikingjelly==$sj_version" loguru SciencePlots ||
  echo "could not download the SpikingJelly wheels: gpu_session.sh will skip the comparisons with SpikingJelly"
git rev-parse HEAD > "$bundle/COMMIT"
git diff --quiet HEAD -- include tests bench examples || echo "(built with uncommitted changes)" >> "$bundle/COMMIT"
# Statically linked OpenBLAS carries every CPU's kernels (~25 MB per binary): xz brings the twelve
# binaries well under the limit, so the bundle fits the device tool's 64 MiB. gpu_session.sh unpacks it.
tar -C "$bundle" -cJf "$bundle/binaries.tar.xz" bin lib
rm -rf "$bundle/bin" "$bundle/lib"
du -sh "$bundle"
echo "bundle ready: carry gpu-bundle and run: BUDGET_S=360 bash scripts/gpu_session.sh (timeout_s 420)"
