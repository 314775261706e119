#!/usr/bin/env bash
# Installs what the wismo test suite needs, idempotently, on a Debian/Ubuntu
# machine that already has rustup + cargo:
#
#   * C toolchain bits used by rdkafka-sys to build librdkafka from source
#     (./configure + make; default features, so no cmake): cc, c++, make,
#     python3, pkg-config, zlib headers. Installed with apt-get only if missing.
#   * rustfmt and clippy components (scripts/test.sh runs them).
#   * tansu, the Kafka-protocol broker the e2e tests run against:
#     `cargo install tansu --locked --features dynostore` into ~/.cargo/bin.
#     About 10 minutes the first time; skipped once installed.
#
# Env:
#   TANSU_VERSION   tansu version to install (default 0.6.0; the harness
#                   relies on its CLI flags)
#   TANSU_BIN       use this tansu binary instead (nothing is installed)
set -euo pipefail

TANSU_VERSION="${TANSU_VERSION:-0.6.0}"
CARGO_BIN="$HOME/.cargo/bin"
export PATH="$CARGO_BIN:$PATH"

log() { echo "[install-tools] $*"; }

# --- system packages --------------------------------------------------------
missing_pkgs=()
need_cmd() { # need_cmd <command> <debian package>
    if command -v "$1" >/dev/null 2>&1; then
        log "ok: $1 ($(command -v "$1"))"
    else
        log "missing: $1 (package $2)"
        missing_pkgs+=("$2")
    fi
}
need_cmd cc gcc
need_cmd c++ g++
need_cmd make make
need_cmd python3 python3
need_cmd pkg-config pkg-config
if [ -f /usr/include/zlib.h ] || pkg-config --exists zlib 2>/dev/null; then
    log "ok: zlib headers"
else
    log "missing: zlib headers (package zlib1g-dev)"
    missing_pkgs+=(zlib1g-dev)
fi

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        log "ERROR: apt-get not available; install manually: ${missing_pkgs[*]}"
        exit 1
    fi
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            log "ERROR: not root and no sudo; install manually: ${missing_pkgs[*]}"
            exit 1
        fi
    fi
    log "apt-get install ${missing_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
else
    log "system packages: nothing to install"
fi

# --- rust components ----------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
    log "ERROR: cargo not found (expected rustup in $CARGO_BIN)"
    exit 1
fi
for component in rustfmt clippy; do
    if cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        log "ok: $component"
    elif command -v rustup >/dev/null 2>&1; then
        log "rustup component add $component"
        rustup component add "$component"
    else
        log "ERROR: $component missing and rustup not available"
        exit 1
    fi
done

# --- tansu --------------------------------------------------------------------
tansu_ok() { # tansu_ok <binary>: right version, built with the dynostore (memory://) engine
    local version help
    version="$("$1" --version 2>/dev/null || true)"
    help="$("$1" --help 2>/dev/null || true)"
    if [[ "$version" != *"$TANSU_VERSION"* ]]; then
        log "$1 is '$version', want $TANSU_VERSION"
        return 1
    fi
    if [[ "$help" != *dynostore* ]]; then
        log "$1 lacks the dynostore storage engine (memory://)"
        return 1
    fi
    return 0
}

if [ -n "${TANSU_BIN:-}" ]; then
    if [ -x "$TANSU_BIN" ] && tansu_ok "$TANSU_BIN"; then
        log "ok: tansu from TANSU_BIN=$TANSU_BIN"
    else
        log "ERROR: TANSU_BIN=$TANSU_BIN is not a usable tansu $TANSU_VERSION with dynostore"
        exit 1
    fi
else
    tansu="$(command -v tansu || true)"
    if [ -n "$tansu" ] && tansu_ok "$tansu"; then
        log "ok: tansu ($tansu, $("$tansu" --version))"
    else
        log "installing tansu $TANSU_VERSION into $CARGO_BIN (takes ~10 min the first time)"
        started=$SECONDS
        cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore --force
        tansu_ok "$CARGO_BIN/tansu" || { log "ERROR: installed tansu is not usable"; exit 1; }
        log "tansu installed in $((SECONDS - started)) s: $("$CARGO_BIN/tansu" --version)"
    fi
fi

log "done"
