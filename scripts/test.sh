#!/usr/bin/env bash
# Runs the whole wismo test suite: the single "run all tests" entry point
# (CI runs it through .ci/run).
#
#   1. scripts/install-tools.sh  (JDK, Apache Kafka from Maven Central, C build
#      deps; idempotent)
#   2. cargo fmt --check
#   3. cargo build --workspace --bins --all-targets
#      (the e2e tests spawn the service binaries from target/debug/)
#   4. cargo clippy --workspace --all-targets -- -D warnings
#   5. cargo test --workspace: unit, property and scenario tests, the seeded
#      simulation, and the e2e tests (each e2e test binary starts one Apache
#      Kafka broker on a free loopback port, and each test its own topics)
#   6. scripts/validate-deploy.sh: the Helm chart, kustomize, image and alerts,
#      checked offline
#   7. scripts/run-local.sh: the README's first command, the whole pipeline on
#      the sample, checked against replay (about 30 seconds)
#   8. scripts/fuzz.sh 10: each fuzz target for 10 seconds
#   9. loadtest chaos --profile short (release build): kills, rebalances and a
#      broker outage under load, both delivery modes, against replay (about
#      11 minutes with its release build; WISMO_CHAOS=0 skips it). In CI the
#      debug and fuzz builds are removed first, for disk.
#
# WISMO_HEAVY=1 adds 10,000 simulation seeds per test in release. Extra
# arguments are passed to `cargo test`, e.g.
# `scripts/test.sh -p wismo-e2e` (then steps 6 to 9 are skipped). With CI set,
# cargo runs --locked and without incremental caches.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
if [ -n "${CI:-}" ]; then
    export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
    # A clean checkout builds once: incremental caches would only take disk.
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
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
    step "all tests passed (selected)"
    exit 0
fi
cargo test "${locked[@]}" --workspace

step "scripts/validate-deploy.sh (chart, kustomize, image, alerts)"
scripts/validate-deploy.sh

step "scripts/run-local.sh (the whole pipeline on the sample, against replay)"
scripts/run-local.sh

step "scripts/fuzz.sh 10 (each fuzz target for 10 s)"
scripts/fuzz.sh 10

if [ "${WISMO_CHAOS:-1}" != 0 ]; then
    if [ -n "${CI:-}" ]; then
        # Nothing after this uses the debug or fuzz builds: their disk goes to
        # the release build.
        rm -rf target/debug fuzz/target
    fi
    step "loadtest chaos --profile short (release build)"
    cargo build "${locked[@]}" --release --bins
    target/release/loadtest chaos --profile short
fi

if [ -n "${WISMO_HEAVY:-}" ]; then
    step "simulation: 10,000 seeds per test (release)"
    WISMO_SIM_SEEDS=10000 cargo test "${locked[@]}" --release -p replay --test simulation
fi

step "all tests passed"
