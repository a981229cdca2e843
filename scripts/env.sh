# Sourced by Prospector's scripts: where the tools installed by scripts/bootstrap.sh live.
# Everything is kept outside the checkout so CI and later sessions reuse it.
export PROSPECTOR_CACHE="${PROSPECTOR_CACHE:-$HOME/.cache/prospector}"
export PROSPECTOR_VENV="$PROSPECTOR_CACHE/venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PROSPECTOR_CACHE/target}"
_site="$PROSPECTOR_VENV/lib/python3.11/site-packages"
if [ -d "$PROSPECTOR_VENV" ]; then
    _site="$(echo "$PROSPECTOR_VENV"/lib/python3*/site-packages)"
fi
# torch-sys builds against the libtorch inside the PyPI torch wheel (TOOLCHAIN.md).
export LIBTORCH="$_site/torch"
export LIBTORCH_CXX11_ABI=1
export LIBTORCH_BYPASS_VERSION_CHECK=1
export LD_LIBRARY_PATH="$LIBTORCH/lib:$_site/nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$PROSPECTOR_VENV/bin:$HOME/.cargo/bin:$PATH"
# The real data shared with the project (never copied into the repository).
_here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROSPECTOR_SHARED_DATA="${PROSPECTOR_SHARED_DATA:-$_here/../shared/data}"
unset _site _here
