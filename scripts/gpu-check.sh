#!/usr/bin/env bash
# GPU check for prospector-model, for a node with an NVIDIA GPU (driver supporting CUDA 13.0):
#   - installs the full torch==2.13.0 wheel with its CUDA libraries (scripts/bootstrap.sh --full-torch);
#   - builds the gpu_check example against that libtorch (a separate target dir);
#   - trains the baseline VQ-VAE one epoch and scores 100k cutouts (real MiraBest images,
#     repeated) on the GPU, printing images/s and the GPU memory used (sampled by nvidia-smi).
# The binary is the same one a CPU node runs: it opens libtorch_cuda.so at start-up.
# Usage: scripts/gpu-check.sh [--images N] [--epochs E] [--train-images N]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
"$here/bootstrap.sh" --full-torch
# shellcheck source=env.sh
source "$here/env.sh"

full_site="$(echo "$PROSPECTOR_CACHE"/venv-full/lib/python3*/site-packages)"
export LIBTORCH="$full_site/torch"
export LIBTORCH_CXX11_ABI=1
# libtorch_cuda.so needs cuDNN, cuBLAS, ... from the nvidia wheels.
nvidia_libs="$(find "$full_site/nvidia" -maxdepth 3 -type d -name lib | sort | tr '\n' ':')"
export LD_LIBRARY_PATH="$LIBTORCH/lib:${nvidia_libs}${LD_LIBRARY_PATH:-}"
export CARGO_TARGET_DIR="$PROSPECTOR_CACHE/target-gpu"

command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: no NVIDIA driver here" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

cd "$root"
cargo build --release -p prospector-model --example gpu_check

memlog="$(mktemp)"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$memlog" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true; rm -f "$memlog"' EXIT
status=0
"$CARGO_TARGET_DIR/release/examples/gpu_check" "$@" || status=$?
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
peak="$(sort -n "$memlog" | tail -1)"
echo "peak GPU memory used (whole device, sampled every 200 ms): ${peak:-unknown} MiB"
exit "$status"
