#!/usr/bin/env bash
# Every speed and memory figure of the README, in one run on this machine, side by side
# with PyBDSF 1.14.1 and Python PyTorch on the same libtorch: writes out/bench/bench.md
# and out/bench/bench.json.
#   bash scripts/bench.sh            # the full run: about 45 minutes on 2 cores
#   bash scripts/bench.sh --quick    # about 8 minutes
# Other arguments go to `prospector bench` (`--runs`, `--rounds`, `--pybdsf-cap SECONDS`,
# `--out DIR`, `--work DIR`, `--only finder,model,end-to-end`; see `prospector bench --help`).
# It runs at nice 10: the machine is usually shared, and both sides of every comparison
# run at the same priority, so the ratios stay fair.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh --full-torch
bash scripts/install-pybdsf.sh
# shellcheck source=env.sh
source scripts/env.sh
# The CLI, and the four services for the distributed end-to-end rows.
cargo build --release --locked -p prospector-cli -p prospector-tiler -p prospector-extractor \
    -p prospector-scorer -p prospector-evaluator
default_out=(--out out/bench)
[[ " $* " == *" --out "* ]] && default_out=()
exec nice -n 10 "$CARGO_TARGET_DIR/release/prospector" bench "${default_out[@]}" "$@"
