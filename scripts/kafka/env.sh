# Sourced by scripts/install-tools.sh and scripts/broker.sh: where the pinned
# Apache Kafka lives. The version comes from pom.xml, the one place it is set.
WISMO_KAFKA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$WISMO_KAFKA_DIR/pom.xml")"
WISMO_CACHE_DIR="${WISMO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wismo}"
# The broker's jars; KAFKA_LIBS overrides (a folder of jars of the same version).
KAFKA_LIBS="${KAFKA_LIBS:-$WISMO_CACHE_DIR/kafka-$KAFKA_VERSION/libs}"
