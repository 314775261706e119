#!/usr/bin/env bash
# The wismo job as a Kafka Streams application (see README.md).
#
#   run.sh build                      build target/peer.jar if the sources changed
#   run.sh --bootstrap HOST:PORT --application-id ID --output-topic TOPIC \
#          [--orders-topic T] [--scans-topic T] [--expect-records N] [options]
#                                     build if needed, then run until SIGTERM
#
# Running prints `first at=<epoch ms>` when the first input record is decided
# and, with --expect-records, `done records=N commands=M unmatched=U` once N
# are; nothing else on stdout. The build and Kafka Streams' warnings go to stderr.
# Options and knobs: README.md. JVM flags: $PEER_JAVA_OPTS; more peer options
# (e.g. `--commit-interval-ms 100`): $PEER_ARGS, after the arguments.
# The build uses Maven's local repository (~/.m2), offline when it has everything.
set -euo pipefail

PEER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PEER_DIR/../../.." && pwd)"
JAR="$PEER_DIR/target/peer.jar"

build() {
    if [ -f "$JAR" ] && [ -z "$(find "$PEER_DIR/pom.xml" "$PEER_DIR/src" -newer "$JAR" -print -quit)" ]; then
        return
    fi
    command -v mvn >/dev/null || { echo "run.sh: mvn not found (Maven 3.8+, JDK 17)" >&2; exit 1; }
    echo "run.sh: building $JAR" >&2
    # Offline first, so a filled ~/.m2 needs no network; Maven prints errors on
    # stdout, which must stay free for the peer's lines, so they go to stderr.
    (cd "$PEER_DIR" && { mvn -q -B -o package >/dev/null 2>&1 ||
        mvn -q -B package 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; })
}

if [ "${1:-}" = build ]; then
    build
    exit 0
fi
build
# exec: the loadtest measures this process, so it must be the JVM.
# shellcheck disable=SC2086
exec java ${PEER_JAVA_OPTS:-} -jar "$JAR" \
    --schemas "$REPO_ROOT/schemas" \
    --mappings "$REPO_ROOT/services/core/mappings" \
    "$@" ${PEER_ARGS:-}
