#!/usr/bin/env bash
# Runs the whole wismo test suite: the single "run all tests" entry point
# (CI runs it through .ci/run).
#
#   1. scripts/install-tools.sh  (tansu broker, C build deps; idempotent)
#   2. cargo fmt --check
#   3. cargo build --workspace --bins --all-targets
#      (the e2e tests spawn the service binaries from target/debug/)
#   4. cargo clippy --workspace --all-targets -- -D warnings
#   5. cargo test --workspace  (unit, property and e2e tests; the e2e tests
#      start their own tansu brokers on free loopback ports)
#
# Extra arguments are passed to `cargo test`, e.g. `scripts/test.sh -p wismo-e2e`
# still builds and lints everything first. With CI set, cargo runs --locked.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
if [ -n "${CI:-}" ]; then
    export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
    locked=(--locked)
else
    locked=()
fi

step() { echo; echo "==> [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }

step "install tools"
scripts/install-tools.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo build --workspace --bins --all-targets"
cargo build "${locked[@]}" --workspace --bins --all-targets

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy "${locked[@]}" --workspace --all-targets -- -D warnings

step "cargo test --workspace"
if [ $# -gt 0 ]; then
    cargo test "${locked[@]}" "$@"
else
    cargo test "${locked[@]}" --workspace
fi

step "all tests passed"
