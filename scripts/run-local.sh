#!/usr/bin/env bash
# Runs the whole wismo pipeline locally and shows what it decided:
#   a local broker (tansu), all topics, both services, the built-in sample of
#   orders and scans (scripts/sample/events.jsonl), then prints the notification
#   commands and dead-letter records it produced, and checks that `replay` over
#   the same file decides the same command ids. Stops everything on exit.
#
# Env: WISMO_BROKER_PORT (default 19092), WISMO_HTTP_BASE_PORT (default 18080).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
export PATH="$HOME/.cargo/bin:$PATH"
PORT="${WISMO_BROKER_PORT:-19092}"
HTTP_BASE="${WISMO_HTTP_BASE_PORT:-18080}"
SAMPLE="$ROOT/scripts/sample/events.jsonl"
RUN_DIR="$ROOT/.wismo/run"
BIN="$ROOT/target/debug"
# A short coalescing window so the demo's waves (5 s apart) are decided one by one.
export WISMO_COALESCE_WINDOW=1s
export WISMO_POLICY_FILE="$ROOT/scripts/sample/policy.toml"
export WISMO_BOOTSTRAP_SERVERS="127.0.0.1:$PORT"

say() { echo; echo "==> $*"; }
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    WISMO_BROKER_PORT="$PORT" scripts/broker.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "installing tools (tansu broker) if missing"
scripts/install-tools.sh >/dev/null

say "building wismo"
cargo build --bins --quiet

say "starting a local broker on 127.0.0.1:$PORT"
WISMO_BROKER_PORT="$PORT" scripts/broker.sh stop >/dev/null 2>&1 || true
WISMO_BROKER_PORT="$PORT" scripts/broker.sh start

say "creating topics"
"$BIN/wismoctl" create-topics --partitions 3

rm -rf "$RUN_DIR" && mkdir -p "$RUN_DIR"
start_service() { # start_service <name> <http port>
    WISMO_HTTP_ADDR="127.0.0.1:$2" "$BIN/$1" >"$RUN_DIR/$1.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$2/readyz" >/dev/null 2>&1; then
            echo "$1 ready (http://127.0.0.1:$2/metrics, log $RUN_DIR/$1.log)"
            return 0
        fi
        sleep 0.2
    done
    echo "$1 did not become ready; log:" >&2
    tail -20 "$RUN_DIR/$1.log" >&2
    exit 1
}
say "starting services"
start_service scan-matcher "$((HTTP_BASE + 1))"
start_service order-tracker "$((HTTP_BASE + 2))"
start_service dispatcher "$((HTTP_BASE + 3))"
# Let both consumers join their groups before the first records arrive.
sleep 3

say "publishing the sample: $(grep -vc '^#' "$SAMPLE") records in waves"
"$BIN/wismoctl" publish "$SAMPLE" --shift-to-now --wave-gap 5s

say "notification commands"
"$BIN/wismoctl" read notification-commands --idle-secs 6 >"$RUN_DIR/commands.jsonl"
python3 - "$RUN_DIR/commands.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line)["value"]
    extra = v["variables"].get("order_progress", "")
    print(f'{v["command_id"]}  {v["order_id"]:<7} {(v.get("shipment_id") or "-"):<9} {v["milestone"]:<17} {v["channel"]:<5} {v["locale"]} {extra}')
PY

say "delay apologies"
"$BIN/wismoctl" read delay-apology-commands --idle-secs 2 >"$RUN_DIR/apologies.jsonl"
python3 - "$RUN_DIR/apologies.jsonl" <<'PY'
import json, sys
import datetime
day = lambda n: "-" if n is None else (datetime.date(1970, 1, 1) + datetime.timedelta(days=n)).isoformat()
for line in open(sys.argv[1]):
    v = json.loads(line)["value"]
    print(f'{v["command_id"]}  {v["order_id"]:<7} {v["reason"]:<16} stage {v["stage"]} {v["severity"]:<8} promised {day(v["promised_delivery_date"])} new EDD {day(v["new_estimated_delivery_date"])} offer {v["compensation"]}')
PY

say "dead-letter records"
"$BIN/wismoctl" read dead-letter --idle-secs 2 | tee "$RUN_DIR/dead-letter.jsonl"

say "replay of the same file decides the same command ids"
"$BIN/replay" "$SAMPLE" >"$RUN_DIR/replay.jsonl"
python3 - "$RUN_DIR/commands.jsonl" "$RUN_DIR/apologies.jsonl" "$RUN_DIR/replay.jsonl" <<'PY'
import json, sys
def ids(paths, topics):
    return sorted(json.loads(l)["value"]["command_id"] for p in paths for l in open(p) if json.loads(l)["topic"] in topics)
topics = ("notification-commands", "delay-apology-commands")
live, replay = ids(sys.argv[1:3], topics), ids(sys.argv[3:], topics)
if live != replay:
    print(f"MISMATCH: live {len(live)} commands, replay {len(replay)}")
    print("only live:", sorted(set(live) - set(replay)))
    print("only replay:", sorted(set(replay) - set(live)))
    sys.exit(1)
print(f"{len(live)} commands, identical ids in the live run and in replay")
PY

say "done; stopping services and broker"
