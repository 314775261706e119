#!/usr/bin/env bash
# Installs what the wismo test suite, the local run and the benchmarks need,
# idempotently, on a Debian/Ubuntu machine that already has rustup + cargo:
#
#   * C toolchain bits used by rdkafka-sys to build librdkafka from source
#     (./configure + make): cc, c++, make, python3, pkg-config, zlib and OpenSSL
#     headers (TLS and SASL/SCRAM). Installed with apt-get only if missing.
#   * rustfmt and clippy components (scripts/test.sh runs them).
#   * Java 17+ and Maven (apt, if missing), and Apache Kafka, the broker the
#     tests run against: one pinned version (scripts/kafka/pom.xml) and its
#     runtime jars from Maven Central, cached in ~/.cache/wismo (WISMO_CACHE_DIR).
#     A second run finds the cache and does nothing, offline.
set -euo pipefail

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
need_cmd curl curl
if [ -f /usr/include/zlib.h ] || pkg-config --exists zlib 2>/dev/null; then
    log "ok: zlib headers"
else
    log "missing: zlib headers (package zlib1g-dev)"
    missing_pkgs+=(zlib1g-dev)
fi

if [ -f /usr/include/openssl/ssl.h ] || pkg-config --exists openssl 2>/dev/null; then
    log "ok: OpenSSL headers"
else
    log "missing: OpenSSL headers (package libssl-dev)"
    missing_pkgs+=(libssl-dev)
fi
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
    log "ok: java $(java_major)"
else
    log "missing: java 17+ (package openjdk-17-jre-headless)"
    missing_pkgs+=(openjdk-17-jre-headless)
fi
need_cmd mvn maven

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

# --- Apache Kafka ---------------------------------------------------------------
# shellcheck source=kafka/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka/env.sh"
if [ -f "$KAFKA_LIBS/.complete" ]; then
    log "ok: Kafka $KAFKA_VERSION ($KAFKA_LIBS)"
else
    log "fetching Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIBS"
    started=$SECONDS
    staging="$KAFKA_LIBS.partial"
    rm -rf "$staging"
    mkdir -p "$staging"
    mvn -B -q -Dstyle.color=never -f "$WISMO_KAFKA_DIR/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$staging" ||
        { log "ERROR: mvn could not fetch Kafka $KAFKA_VERSION (see above)"; exit 1; }
    ls "$staging"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null ||
        { log "ERROR: kafka_2.13-$KAFKA_VERSION.jar missing from $staging"; exit 1; }
    (cd "$staging" && ls -1 *.jar) >"$staging/.complete"
    rm -rf "$KAFKA_LIBS"
    mv "$staging" "$KAFKA_LIBS"
    log "Kafka $KAFKA_VERSION installed in $((SECONDS - started)) s ($(wc -l <"$KAFKA_LIBS/.complete") jars)"
fi

log "done"
