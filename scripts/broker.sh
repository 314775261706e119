#!/usr/bin/env bash
# Local Kafka-protocol broker (tansu, in-memory storage) for development.
#
#   scripts/broker.sh start  [PORT]   start in the background, wait until ready
#   scripts/broker.sh stop            stop it (SIGTERM, then SIGKILL after 10 s)
#   scripts/broker.sh status          report; exit 0 if running, 3 if not
#
# Port: PORT argument, else $WISMO_BROKER_PORT, else 19092. Listens and
# advertises on 127.0.0.1 only. Bootstrap servers: 127.0.0.1:<port>.
# State (pid, port, log): $WISMO_BROKER_DIR, default <repo>/.wismo/broker.
# Storage is in memory: stopping the broker discards all topics and records.
# The tansu binary: $TANSU_BIN, else `tansu` on PATH or in ~/.cargo/bin
# (scripts/install-tools.sh installs it). Tansu 0.6 has no transactions.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${WISMO_BROKER_DIR:-$REPO_ROOT/.wismo/broker}"
PID_FILE="$STATE_DIR/tansu.pid"
PORT_FILE="$STATE_DIR/tansu.port"
LOG_FILE="$STATE_DIR/tansu.log"
START_TIMEOUT="${WISMO_BROKER_START_TIMEOUT:-30}"

log() { echo "[broker] $*"; }
die() { echo "[broker] ERROR: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 start|stop|status [PORT]" >&2
    exit 2
}

find_tansu() {
    if [ -n "${TANSU_BIN:-}" ]; then
        [ -x "$TANSU_BIN" ] || die "TANSU_BIN=$TANSU_BIN is not executable"
        echo "$TANSU_BIN"
    elif command -v tansu >/dev/null 2>&1; then
        command -v tansu
    elif [ -x "$HOME/.cargo/bin/tansu" ]; then
        echo "$HOME/.cargo/bin/tansu"
    else
        die "tansu not found (TANSU_BIN, PATH, ~/.cargo/bin); run scripts/install-tools.sh"
    fi
}

running_pid() { # prints the pid and succeeds if our broker is alive
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

port_open() { # port_open <port>: something accepts TCP on 127.0.0.1:<port>
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

metadata_ok() { # metadata_ok <tansu> <port>: a Kafka metadata request succeeds
    timeout 10 "$1" topic list --broker "tcp://127.0.0.1:$2" >/dev/null 2>&1
}

cmd_start() {
    local port="${1:-${WISMO_BROKER_PORT:-19092}}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "invalid port: $port"
    local pid
    if pid="$(running_pid)"; then
        log "already running: pid $pid, bootstrap 127.0.0.1:$(cat "$PORT_FILE" 2>/dev/null || echo '?')"
        return 0
    fi
    if port_open "$port"; then
        die "port $port on 127.0.0.1 is already in use by another process"
    fi

    local tansu
    tansu="$(find_tansu)"
    mkdir -p "$STATE_DIR"
    rm -f "$PID_FILE" "$PORT_FILE"
    local url="tcp://127.0.0.1:$port"
    log "starting $tansu on $url (log: $LOG_FILE)"
    # Run from the state dir: tansu reads a `.env` file from its working dir.
    # setsid detaches it from this shell's process group (Ctrl-C, CI steps).
    (
        cd "$STATE_DIR"
        export RUST_LOG="${TANSU_LOG:-warn}" NO_COLOR=1
        exec setsid "$tansu" broker \
            --cluster-id wismo-local \
            --listener-url "$url" \
            --advertised-listener-url "$url" \
            --storage-engine memory://tansu/ \
            </dev/null >"$LOG_FILE" 2>&1
    ) &
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$PID_FILE"
    echo "$port" >"$PORT_FILE"

    local deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "[broker] tansu exited during startup; log tail:" >&2
            tail -n 40 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE" "$PORT_FILE"
            exit 1
        fi
        if port_open "$port" && metadata_ok "$tansu" "$port"; then
            break
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "[broker] tansu not ready within ${START_TIMEOUT}s; log tail:" >&2
            tail -n 40 "$LOG_FILE" >&2 || true
            kill -KILL "$pid" 2>/dev/null || true
            rm -f "$PID_FILE" "$PORT_FILE"
            exit 1
        fi
        sleep 0.2
    done
    log "ready: pid $pid, bootstrap 127.0.0.1:$port"
}

cmd_stop() {
    local pid
    if ! pid="$(running_pid)"; then
        log "not running"
        rm -f "$PID_FILE" "$PORT_FILE"
        return 0
    fi
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "still alive after 10 s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
    log "stopped"
}

cmd_status() {
    local pid port
    if pid="$(running_pid)"; then
        port="$(cat "$PORT_FILE" 2>/dev/null || echo '?')"
        local health="not answering"
        if [ "$port" != "?" ] && port_open "$port"; then
            if metadata_ok "$(find_tansu)" "$port"; then health="ready"; else health="port open, no metadata"; fi
        fi
        log "running: pid $pid, bootstrap 127.0.0.1:$port ($health), log $LOG_FILE"
        return 0
    fi
    log "not running (state dir $STATE_DIR)"
    return 3
}

[ $# -ge 1 ] || usage
command="$1"
shift
case "$command" in
    start) [ $# -le 1 ] || usage; cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) usage ;;
esac
