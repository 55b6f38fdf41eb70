#!/usr/bin/env bash
# spikefuse quick start: install what is missing (Debian), build, then train or test.
#   bash scripts/run.sh train [flags for fashion_mnist_mlp]   # train the default network on Fashion-MNIST
#   bash scripts/run.sh test                                  # run the whole test suite (CTest)
# Environment: BUILD_DIR (default: build), JOBS (default: nproc), SPIKEFUSE_SKIP_INSTALL=1 to skip apt-get.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-}"
shift || true
case "$mode" in
  train|test) ;;
  *) echo "usage: bash scripts/run.sh train|test [flags]" >&2; exit 2 ;;
esac

packages=(g++ cmake make libboost1.81-dev libboost-test1.81-dev libopenblas-openmp-dev zlib1g-dev
          libbenchmark-dev dataset-fashion-mnist python3)
if [[ "${SPIKEFUSE_SKIP_INSTALL:-0}" != 1 ]]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
  fi
fi

build="${BUILD_DIR:-build}"
jobs="${JOBS:-$(nproc)}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
if [[ "$mode" == train ]]; then
  cmake --build "$build" -j "$jobs" --target fashion_mnist_mlp
  exec "$build/examples/fashion_mnist_mlp" "$@"
fi
cmake --build "$build" -j "$jobs"
cd "$build"
exec ctest --output-on-failure -j "$jobs" "$@"
