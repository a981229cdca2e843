#!/usr/bin/env bash
# The main job on the embedded default: no NATS or other server needed.
# With no arguments it simulates a small MeerKAT-like survey, trains the study's VQ-VAE
# briefly on the sources found in it, and runs the whole pipeline (tile -> find ->
# cut out -> score -> rank) in one process, writing everything under out/demo.
# Arguments are passed to `prospector run` (e.g. your own images: scripts/demo.sh a.fits b.fits).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
# shellcheck source=env.sh
source scripts/env.sh
cargo build --release --locked -p prospector-cli
exec "$CARGO_TARGET_DIR/release/prospector" run --out out/demo "$@"
