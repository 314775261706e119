#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: combined broker and controller) on
# loopback, for the tests, the local run and the benchmarks.
#
#   scripts/broker.sh start    start in the background; returns once it serves
#   scripts/broker.sh run      run in the foreground (the test harness uses this)
#   scripts/broker.sh stop     SIGTERM (a clean shutdown), SIGKILL after 30 s
#   scripts/broker.sh status   exit 0 if running, 3 if not
#
# Env:
#   WISMO_BROKER_PORT             client port (default 19092); bootstrap 127.0.0.1:<port>
#   WISMO_BROKER_CONTROLLER_PORT  KRaft controller port (default client port + 1)
#   WISMO_BROKER_DIR              state: config, log, data (default <repo>/.wismo/broker)
#   WISMO_BROKER_HEAP             JVM heap (default 768m)
#   WISMO_BROKER_PROPERTIES       a file of extra server properties, appended last
#   WISMO_BROKER_SASL_SSL_PORT    also a SASL_SSL listener (SCRAM-SHA-512 over TLS)
#                                 on this port; PLAINTEXT stays on the client port
#   WISMO_BROKER_TLS_DIR          its CA and keystore (default <state dir>/tls),
#                                 made by scripts/kafka/tls.sh when missing
#   WISMO_BROKER_SCRAM_USERS      SCRAM-SHA-512 users, `name:password` separated by
#                                 spaces, created when the storage is formatted
#                                 (the first start of a state dir)
#   WISMO_BROKER_START_TIMEOUT    seconds to wait for start (default 60)
#
# Storage is formatted on the first start and kept: stop and start again to
# bounce the broker with its data; delete WISMO_BROKER_DIR to begin empty. The
# jars come from scripts/install-tools.sh (Maven Central, cached).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=kafka/env.sh
source "$REPO_ROOT/scripts/kafka/env.sh"
STATE_DIR="${WISMO_BROKER_DIR:-$REPO_ROOT/.wismo/broker}"
PORT="${WISMO_BROKER_PORT:-19092}"
CONTROLLER_PORT="${WISMO_BROKER_CONTROLLER_PORT:-$((PORT + 1))}"
HEAP="${WISMO_BROKER_HEAP:-768m}"
START_TIMEOUT="${WISMO_BROKER_START_TIMEOUT:-60}"
PID_FILE="$STATE_DIR/broker.pid"
LOG_FILE="$STATE_DIR/broker.log"
CONFIG="$STATE_DIR/server.properties"
SASL_SSL_PORT="${WISMO_BROKER_SASL_SSL_PORT:-}"
TLS_DIR="${WISMO_BROKER_TLS_DIR:-$STATE_DIR/tls}"

log() { echo "[broker] $*"; }
die() { echo "[broker] ERROR: $*" >&2; exit 1; }
usage() { echo "usage: $0 start|run|stop|status" >&2; exit 2; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "WISMO_BROKER_PORT=$PORT is not a port"
[[ "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "WISMO_BROKER_CONTROLLER_PORT=$CONTROLLER_PORT is not a port"
[[ -z "$SASL_SSL_PORT" || "$SASL_SSL_PORT" =~ ^[0-9]+$ ]] || die "WISMO_BROKER_SASL_SSL_PORT=$SASL_SSL_PORT is not a port"

running_pid() { # prints the pid and succeeds if our broker is alive
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

JAVA=()
java_cmd() { # fills JAVA with the java command line up to the main class
    [ -f "$KAFKA_LIBS/.complete" ] || die "Kafka $KAFKA_VERSION is not installed in $KAFKA_LIBS; run scripts/install-tools.sh"
    command -v java >/dev/null 2>&1 || die "java not found; run scripts/install-tools.sh"
    JAVA=(java -Xms256m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$WISMO_KAFKA_DIR/log4j2.properties"
        "-Dwismo.broker.log=$LOG_FILE"
        -cp "$KAFKA_LIBS/*")
}

write_config() {
    mkdir -p "$STATE_DIR/data"
    cat >"$CONFIG" <<EOF
# Written by scripts/broker.sh; edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT${SASL_SSL_PORT:+,SASL_SSL://127.0.0.1:$SASL_SSL_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT${SASL_SSL_PORT:+,SASL_SSL://127.0.0.1:$SASL_SSL_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$STATE_DIR/data
# One node: every internal topic with one replica, so that consumer groups,
# transactions and share groups work.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Topics are created on purpose (wismoctl create-topics), never by a typo.
auto.create.topics.enable=false
# A group forms at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
# A member that dies (kill -9) loses its partitions after 10 s rather than 45 s
# (consumer protocol, KIP-848), so crash tests take seconds.
group.consumer.min.session.timeout.ms=3000
group.consumer.session.timeout.ms=10000
group.consumer.min.heartbeat.interval.ms=500
group.consumer.heartbeat.interval.ms=1000
# Nothing is deleted for its age: test and load backlogs carry event times days
# or weeks old, past the broker's default retention (7 days), and are read back
# whole at the end.
log.retention.ms=-1
# Compaction runs soon after a segment rolls, so a test can watch it happen.
log.cleaner.enable=true
log.cleaner.backoff.ms=1000
EOF
    [ -z "$SASL_SSL_PORT" ] || write_sasl_ssl_config
    if [ -n "${WISMO_BROKER_PROPERTIES:-}" ]; then
        [ -f "$WISMO_BROKER_PROPERTIES" ] || die "WISMO_BROKER_PROPERTIES=$WISMO_BROKER_PROPERTIES does not exist"
        { echo "# From $WISMO_BROKER_PROPERTIES"; cat "$WISMO_BROKER_PROPERTIES"; } >>"$CONFIG"
    fi
}

# SCRAM-SHA-512 over TLS on the SASL_SSL listener; the broker's own traffic
# (controller, inter-broker) stays on PLAINTEXT. No authorizer: any
# authenticated user may do anything.
write_sasl_ssl_config() {
    if [ ! -f "$TLS_DIR/broker.p12" ] || [ ! -f "$TLS_DIR/broker.p12.pass" ]; then
        "$REPO_ROOT/scripts/kafka/tls.sh" "$TLS_DIR" >/dev/null ||
            die "creating TLS material in $TLS_DIR failed (scripts/kafka/tls.sh)"
    fi
    local pass
    pass="$(cat "$TLS_DIR/broker.p12.pass")"
    cat >>"$CONFIG" <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$pass
listener.name.sasl_ssl.ssl.key.password=$pass
EOF
}

SCRAM_ARGS=()
scram_args() { # fills SCRAM_ARGS: one --add-scram per user of WISMO_BROKER_SCRAM_USERS
    local entry name password
    local -
    set -f # a password is not a glob
    for entry in ${WISMO_BROKER_SCRAM_USERS:-}; do
        name="${entry%%:*}"
        password="${entry#*:}"
        [[ "$entry" == *:* && -n "$name" && -n "$password" ]] ||
            die "WISMO_BROKER_SCRAM_USERS: an entry is not name:password"
        # The storage tool's syntax has no quoting for these.
        case "$name$password" in
            *[],=\"[]*) die "WISMO_BROKER_SCRAM_USERS: names and passwords may not hold , = [ ] or \"" ;;
        esac
        SCRAM_ARGS+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$password]")
    done
}

format_storage() { # once per state dir
    [ -f "$STATE_DIR/data/meta.properties" ] && return 0
    local id
    # A random UUID in Kafka's base64 form; one with a leading '-' would read as
    # an option, so draw again.
    id=-
    while [ "${id:0:1}" = "-" ]; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | cut -c1-22)"
    done
    java_cmd
    scram_args
    "${JAVA[@]}" kafka.tools.StorageTool format --ignore-formatted \
        --cluster-id "$id" --config "$CONFIG" "${SCRAM_ARGS[@]}" >>"$LOG_FILE" 2>&1 ||
        { tail -n 20 "$LOG_FILE" >&2; die "formatting storage in $STATE_DIR/data failed"; }
}

prepare() {
    if port_open "$PORT"; then die "port $PORT on 127.0.0.1 is already in use"; fi
    if port_open "$CONTROLLER_PORT"; then die "port $CONTROLLER_PORT on 127.0.0.1 is already in use"; fi
    if [ -n "$SASL_SSL_PORT" ] && port_open "$SASL_SSL_PORT"; then die "port $SASL_SSL_PORT on 127.0.0.1 is already in use"; fi
    write_config
    : >"$LOG_FILE"
    format_storage
}

cmd_run() {
    prepare
    echo "$$" >"$PID_FILE"
    java_cmd
    exec "${JAVA[@]}" kafka.Kafka "$CONFIG"
}

cmd_start() {
    local pid
    if pid="$(running_pid)"; then
        log "already running: pid $pid, bootstrap 127.0.0.1:$PORT"
        return 0
    fi
    prepare
    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (log: $LOG_FILE)"
    # setsid: the broker outlives this shell and ignores its Ctrl-C.
    java_cmd
    setsid "${JAVA[@]}" kafka.Kafka "$CONFIG" </dev/null >>"$STATE_DIR/broker.out" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$PID_FILE"
    local deadline=$((SECONDS + START_TIMEOUT))
    until grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null && port_open "$PORT"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 40 "$LOG_FILE" "$STATE_DIR/broker.out" >&2 || true
            rm -f "$PID_FILE"
            die "the broker exited during start-up"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 40 "$LOG_FILE" >&2 || true
            kill -KILL "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            die "the broker did not start within ${START_TIMEOUT}s"
        fi
        sleep 0.2
    done
    log "ready: pid $pid, bootstrap 127.0.0.1:$PORT${SASL_SSL_PORT:+ (SASL_SSL: 127.0.0.1:$SASL_SSL_PORT)}"
}

cmd_stop() {
    local pid
    if ! pid="$(running_pid)"; then
        log "not running"
        rm -f "$PID_FILE"
        return 0
    fi
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "still alive after 30 s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        log "running: pid $pid, bootstrap 127.0.0.1:$PORT, log $LOG_FILE"
        return 0
    fi
    log "not running (state dir $STATE_DIR)"
    return 3
}

[ $# -eq 1 ] || usage
case "$1" in
    start) cmd_start ;;
    run) cmd_run ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) usage ;;
esac
