#!/usr/bin/env bash
# Installs PyBDSF 1.14.1 (the reference source finder the prospector-sources
# benchmark runs beside ours) into its own virtualenv, idempotently: a second run
# only checks a stamp file and returns. Kept apart from the torch venv so that
# PyBDSF's numpy/scipy pins never disturb it.
#   PYBDSF_VENV (default $PROSPECTOR_CACHE/bdsf-venv)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"

BDSF_VERSION=1.14.1
PYBDSF_VENV="${PYBDSF_VENV:-$PROSPECTOR_CACHE/bdsf-venv}"
stamp="$PYBDSF_VENV/.bdsf-$BDSF_VERSION"
log() { printf '[install-pybdsf] %s\n' "$*" >&2; }

if [ -f "$stamp" ]; then
    exit 0
fi
if [ ! -x "$PYBDSF_VENV/bin/python" ]; then
    log "creating virtualenv $PYBDSF_VENV"
    mkdir -p "$(dirname "$PYBDSF_VENV")"
    python3 -m venv "$PYBDSF_VENV"
fi
pip="$PYBDSF_VENV/bin/python -m pip --disable-pip-version-check -q"
log "installing bdsf $BDSF_VERSION"
$pip install "bdsf==$BDSF_VERSION" astropy
"$PYBDSF_VENV/bin/python" -c "import bdsf; print('bdsf', bdsf.__version__)" >&2
touch "$stamp"
