#!/usr/bin/env bash
# Runs every test of Prospector from a fresh or a warm machine:
# installs what is missing (scripts/bootstrap.sh), checks formatting and lints,
# then runs the whole workspace's tests (unit, integration against a real nats-server
# started by the tests on a free loopback port, real FITS data from ../shared/data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
# shellcheck source=env.sh
source scripts/env.sh
if [ ! -d "$PROSPECTOR_SHARED_DATA" ]; then
    echo "shared data not found at $PROSPECTOR_SHARED_DATA (set PROSPECTOR_SHARED_DATA)" >&2
    exit 1
fi
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The workspace build enables the services' default `otlp` feature; telemetry alone is
# the build without it (a configured endpoint is then refused, not ignored).
cargo clippy -p prospector-telemetry --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked --no-fail-fast "$@"
