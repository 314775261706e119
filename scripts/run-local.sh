#!/usr/bin/env bash
# Runs the whole wismo pipeline locally and shows what it decided: a local
#   Apache Kafka broker, all topics, the built-in sample of orders and scans
#   (scripts/sample/events.jsonl, published first as a backlog), the three
#   services; then prints the commands and dead-letter records they produced,
#   and checks that `replay` over the same file decides the same commands, whole
#   records compared. Stops everything on exit.
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
# A broker of its own, begun empty on every run: what it prints is this run's.
export WISMO_BROKER_DIR="$ROOT/.wismo/local-broker"
BIN="$ROOT/target/debug"
# A short coalescing window, so the sample's last notices go out seconds after it
# is published rather than after the default 30 s.
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

say "installing tools (JDK, Apache Kafka from Maven Central) if missing"
scripts/install-tools.sh >/dev/null

say "building wismo"
cargo build --bins --quiet

say "starting a local broker on 127.0.0.1:$PORT"
WISMO_BROKER_PORT="$PORT" scripts/broker.sh stop >/dev/null 2>&1 || true
rm -rf "$WISMO_BROKER_DIR"
WISMO_BROKER_PORT="$PORT" scripts/broker.sh start

say "creating topics"
"$BIN/wismoctl" create-topics --partitions 3

say "publishing the sample: $(grep -vc '^#' "$SAMPLE") records"
# Its times, two days of an order's life, are moved to end now; published before
# the services start, it is a backlog they decide by its own timestamps, as replay
# does. (Published live, seconds apart, its records would be hours late, and a
# late record is decided as of its arrival: docs/architecture.md, "Late records".)
# Prints `shift_ms=… last_ms=…`: how far the file's times were moved.
published="$("$BIN/wismoctl" publish "$SAMPLE" --shift-to-now --wave-gap 0s)"
SHIFT_MS="$(sed -n 's/.*shift_ms=\([-0-9]*\).*/\1/p' <<<"$published")"
LAST_MS="$(sed -n 's/.*last_ms=\([-0-9]*\).*/\1/p' <<<"$published")"

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

# What `replay` decides over the same file, moved by the same shift, up to shortly
# after its end: the live run must put exactly these on the topics.
"$BIN/replay" "$SAMPLE" --shift-ms "$SHIFT_MS" >"$RUN_DIR/replay.jsonl"
CUT_MS="$((LAST_MS + 5000))"
expected() { # expected <topic>: how many commands replay put on it by the cut
    python3 - "$1" "$CUT_MS" "$RUN_DIR/replay.jsonl" <<'PY'
import json, sys
topic, cut = sys.argv[1], int(sys.argv[2])
print(sum(1 for l in open(sys.argv[3]) if (r := json.loads(l))["topic"] == topic and r["value"]["decided_at"] <= cut))
PY
}
read_topic() { # read_topic <topic> <file>: waits for what replay expects there
    "$BIN/wismoctl" read "$1" --expect "$(expected "$1")" --idle-secs 2 --timeout-secs 60 >"$2"
}

say "notification commands"
read_topic notification-commands "$RUN_DIR/commands.jsonl"
python3 - "$RUN_DIR/commands.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line)["value"]
    extra = v["variables"].get("order_progress", "")
    print(f'{v["command_id"]}  {v["order_id"]:<7} {(v.get("shipment_id") or "-"):<9} {v["milestone"]:<17} {v["channel"]:<5} {v["locale"]} {extra}')
PY

say "delay apologies"
read_topic delay-apology-commands "$RUN_DIR/apologies.jsonl"
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

say "review requests"
read_topic review-request-commands "$RUN_DIR/reviews.jsonl"
echo "$(grep -c . "$RUN_DIR/reviews.jsonl" || true) review requests"

say "replay of the same file decides the same commands"
# Whole records, times included: every command replay decides by the cut, and
# every command the live run put on the topics.
python3 - "$CUT_MS" "$RUN_DIR/replay.jsonl" "$RUN_DIR/commands.jsonl" "$RUN_DIR/apologies.jsonl" "$RUN_DIR/reviews.jsonl" <<'PY'
import json, sys
cut = int(sys.argv[1])
topics = ("notification-commands", "delay-apology-commands", "review-request-commands")
def commands(paths):
    out = {}
    for p in paths:
        for line in open(p):
            r = json.loads(line)
            if r["topic"] in topics:
                out[(r["topic"], r["value"]["command_id"])] = r["value"]
    return out
replay, live = commands(sys.argv[2:3]), commands(sys.argv[3:])
wanted = {k for k, c in replay.items() if c["decided_at"] <= cut} | set(live)
bad = []
for k in sorted(wanted):
    l, r = live.get(k), replay.get(k)
    if l is None or l != r:
        bad.append((k, l, r))
if bad:
    print(f"MISMATCH: {len(bad)} of {len(wanted)} commands")
    for k, l, r in bad:
        print(" ", k, "\n    live:  ", l, "\n    replay:", r)
    sys.exit(1)
print(f"{len(wanted)} commands, identical in the live run and in replay (whole records, times included)")
PY

say "done; stopping services and broker"
