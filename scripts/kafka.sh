#!/usr/bin/env bash
# Apache Kafka 4.x (KRaft, no ZooKeeper) on loopback, for the distributed mode's tests and for users.
#   scripts/kafka.sh up [--brokers 1|3]   fetch the broker jars from Maven Central (first run only, cached),
#                                         format the KRaft storage (first run only), start, wait until ready
#   scripts/kafka.sh down                 stop the brokers by their PID files (SIGTERM, then SIGKILL)
#   scripts/kafka.sh restart [--brokers N] down, then up (the data survives: a real broker restart)
#   scripts/kafka.sh reset                down, then delete the cluster's data (the jars stay cached)
#   scripts/kafka.sh env                  print the variables the Kafka tests read
#   scripts/kafka.sh status               say what runs where
# Idempotent: `up` twice leaves the same brokers running; stale PID files are ignored and replaced.
# Ports: broker i (0-based) listens on 19092+2i (clients) and 19093+2i (controller quorum), so it never
# clashes with a user's own Kafka on 9092. CLOUDSMITH_KAFKA_PORT moves the whole range.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CLOUDSMITH_CACHE:-$REPO/.cache}/kafka"
JARS="$CACHE/jars"
KAFKA_VERSION="${CLOUDSMITH_KAFKA_VERSION:-4.1.1}"
# log4j-slf4j-impl binds the slf4j 1.x API that kafka_2.13's dependency tree resolves to, so broker logs reach log4j2.
LOG4J_VERSION=2.24.3
HOST=127.0.0.1
BASE_PORT="${CLOUDSMITH_KAFKA_PORT:-19092}"
HEAP="${CLOUDSMITH_KAFKA_HEAP:-512m}"
# The clusters' data, logs and PID files; apart from the jars so a second, fresh cluster can share the cached
# jars (CLOUDSMITH_KAFKA_STATE=$(mktemp -d) CLOUDSMITH_KAFKA_PORT=29092 scripts/kafka.sh up).
KAFKA_STATE="${CLOUDSMITH_KAFKA_STATE:-$CACHE}"
STATE="$KAFKA_STATE/running-brokers"

say() { echo "kafka: $*" >&2; }

client_port() { echo $((BASE_PORT + 2 * $1)); }
controller_port() { echo $((BASE_PORT + 2 * $1 + 1)); }
cluster_dir() { echo "$KAFKA_STATE/cluster-$1"; }
pidfile() { echo "$(cluster_dir "$1")/node-$2.pid"; }

bootstrap() {
  local n=$1 i out=""
  for ((i = 0; i < n; i++)); do out+="${out:+,}$HOST:$(client_port "$i")"; done
  echo "$out"
}

port_open() {
  # bash's /dev/tcp: no nc or ss needed on a fresh machine.
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

node_pid() {
  local f
  f="$(pidfile "$1" "$2")"
  [[ -f "$f" ]] || return 1
  local pid
  pid="$(cat "$f")"
  # A stale file may name a recycled PID: only trust it if that process is our broker's JVM.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka"; then
    echo "$pid"
    return 0
  fi
  return 1
}

fetch_jars() {
  if [[ -f "$JARS/.version" && "$(cat "$JARS/.version")" == "$KAFKA_VERSION" ]]; then return 0; fi
  command -v mvn >/dev/null || { say "mvn is required to fetch the broker jars (apt-get install maven)"; return 1; }
  local started=$SECONDS work="$CACHE/maven"
  say "fetching Apache Kafka $KAFKA_VERSION broker jars from Maven Central into $JARS"
  mkdir -p "$work"
  cat > "$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.cloudsmith</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$JARS.partial"
  if ! (cd "$work" && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS.partial") >"$work/mvn.log" 2>&1; then
    say "mvn could not fetch the jars; log tail:"
    tail -n 30 "$work/mvn.log" >&2
    return 1
  fi
  # Swap in whole so an interrupted download never leaves a half-filled jar dir that looks complete.
  rm -rf "$JARS"
  mv "$JARS.partial" "$JARS"
  echo "$KAFKA_VERSION" > "$JARS/.version"
  say "fetched $(ls "$JARS"/*.jar | wc -l) jars in $((SECONDS - started))s"
}

write_config() {
  local n=$1 i=$2 dir
  dir="$(cluster_dir "$n")"
  local voters="" j
  for ((j = 0; j < n; j++)); do voters+="${voters:+,}$((j + 1))@$HOST:$(controller_port "$j")"; done
  local rf=$((n < 3 ? n : 3))
  local min_isr=$((rf > 1 ? 2 : 1))
  mkdir -p "$dir/data-$i" "$dir/logs-$i"
  cat > "$dir/server-$i.properties" <<EOF
# Written by scripts/kafka.sh; rewritten on every up.
process.roles=broker,controller
node.id=$((i + 1))
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(client_port "$i"),CONTROLLER://$HOST:$(controller_port "$i")
advertised.listeners=PLAINTEXT://$HOST:$(client_port "$i")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data-$i
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
# The platform creates its topics itself with the partitions and replication it is configured for.
auto.create.topics.enable=false
# Tests start consumers and expect assignments at once, not after the default 3 s rebalance delay.
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
# A test cache should not grow without bound: old test topics' segments go after a day.
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat > "$dir/log4j2-$i.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/logs-$i/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
}

format_storage() {
  local n=$1 i=$2 cluster_id=$3 dir
  dir="$(cluster_dir "$n")"
  [[ -f "$dir/data-$i/meta.properties" ]] && return 0
  if ! java -cp "$JARS/*" -Dlog4j2.configurationFile="$dir/log4j2-$i.properties" kafka.tools.StorageTool format \
    --config "$dir/server-$i.properties" --cluster-id "$cluster_id" --ignore-formatted >"$dir/logs-$i/format.log" 2>&1; then
    say "formatting node $((i + 1)) failed; log tail:"
    tail -n 30 "$dir/logs-$i/format.log" >&2
    return 1
  fi
}

cluster_id() {
  local dir
  dir="$(cluster_dir "$1")"
  if [[ ! -f "$dir/cluster.id" ]]; then
    mkdir -p "$dir"
    # A Kafka Uuid: 16 random bytes, base64url without padding (22 characters).
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$dir/cluster.id"
  fi
  cat "$dir/cluster.id"
}

# Ready = every broker is in the metadata, every group coordinator has loaded, and a consumer has joined a group
# (scripts/kafka-ready.cjs): a broker lists itself in metadata seconds before it can serve a consumer group.
# kafkajs is in the workspace's node_modules after `npm install`; without it the open client port has to do.
metadata_ok() {
  local n=$1
  if ! node -e "require.resolve('kafkajs', { paths: ['$REPO/backend', '$REPO'] })" >/dev/null 2>&1; then
    local i
    for ((i = 0; i < n; i++)); do port_open "$(client_port "$i")" || return 1; done
    return 0
  fi
  CLOUDSMITH_KAFKA_BROKERS="$(bootstrap "$n")" CLOUDSMITH_KAFKA_EXPECT="$n" \
    timeout 40 node "$REPO/scripts/kafka-ready.cjs" "$REPO" >/dev/null 2>&1
}

parse_brokers() {
  local n=1
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --brokers) n="${2:?--brokers needs a number}"; shift 2 ;;
      --brokers=*) n="${1#--brokers=}"; shift ;;
      *) say "unknown option $1"; return 1 ;;
    esac
  done
  [[ "$n" == 1 || "$n" == 3 ]] || { say "--brokers must be 1 or 3, got $n"; return 1; }
  echo "$n"
}

running_count() {
  [[ -f "$STATE" ]] && cat "$STATE" || echo 0
}

up() {
  local n
  n="$(parse_brokers "$@")"
  local current
  current="$(running_count)"
  if [[ "$current" != 0 && "$current" != "$n" ]]; then
    local k alive=0
    for ((k = 0; k < current; k++)); do node_pid "$current" "$k" >/dev/null && alive=1; done
    if [[ $alive == 1 ]]; then
      say "a $current-broker cluster is running; run 'scripts/kafka.sh down' before starting $n brokers"
      return 1
    fi
  fi
  local started=$SECONDS
  fetch_jars
  command -v java >/dev/null || { say "java (17+) is required"; return 1; }
  local id i dir
  id="$(cluster_id "$n")"
  dir="$(cluster_dir "$n")"
  for ((i = 0; i < n; i++)); do
    write_config "$n" "$i"
    if node_pid "$n" "$i" >/dev/null; then continue; fi
    rm -f "$(pidfile "$n" "$i")"
    if port_open "$(client_port "$i")" || port_open "$(controller_port "$i")"; then
      say "port $(client_port "$i") or $(controller_port "$i") is taken by a process that is not ours; set CLOUDSMITH_KAFKA_PORT to another base port"
      return 1
    fi
    format_storage "$n" "$i" "$id"
    # setsid: own session and process group, so the broker outlives this shell and `down` signals only it.
    setsid java -Xms128m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$dir/log4j2-$i.properties" -Dkafka.logs.dir="$dir/logs-$i" \
      -cp "$JARS/*" kafka.Kafka "$dir/server-$i.properties" >"$dir/logs-$i/stdout.log" 2>&1 < /dev/null &
    echo $! > "$(pidfile "$n" "$i")"
  done
  echo "$n" > "$STATE"
  local deadline=$((SECONDS + 150))
  until metadata_ok "$n"; do
    for ((i = 0; i < n; i++)); do
      if ! node_pid "$n" "$i" >/dev/null; then
        say "broker $((i + 1)) exited during startup; log tail:"
        tail -n 30 "$dir/logs-$i/stdout.log" "$dir/logs-$i/server.log" >&2 2>/dev/null || true
        down
        return 1
      fi
    done
    if ((SECONDS > deadline)); then
      say "not ready at $(bootstrap "$n") after 150s; log tail:"
      tail -n 30 "$dir/logs-0/server.log" >&2 2>/dev/null || true
      down
      return 1
    fi
    sleep 0.5
  done
  say "ready: $n broker(s) at $(bootstrap "$n") in $((SECONDS - started))s (logs: $dir/logs-*/server.log)"
}

stop_pid() {
  local pid=$1 limit=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  local waited=0
  # A controlled shutdown hands partition leadership over first; give it time before forcing.
  while kill -0 "$pid" 2>/dev/null && ((waited < limit * 10)); do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid did not stop within ${limit}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

down() {
  local n i pid stopped=0
  for n in 1 3; do
    # Stop in reverse order: the first node tends to be the active controller, and leaving it for last
    # saves the others an election each.
    local pids=()
    for ((i = n - 1; i >= 0; i--)); do
      if pid="$(node_pid "$n" "$i")"; then
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
      fi
      rm -f "$(pidfile "$n" "$i")"
    done
    # The last nodes of a 3-node quorum stopping together lose their majority and cannot finish a
    # controlled shutdown; their logs recover at the next start, so they get less time before SIGKILL.
    for pid in "${pids[@]}"; do stop_pid "$pid" $((n == 1 ? 30 : 10)); stopped=$((stopped + 1)); done
  done
  rm -f "$STATE"
  if ((stopped > 0)); then say "stopped $stopped broker(s)"; else say "not running"; fi
}

reset() {
  down
  rm -rf "$(cluster_dir 1)" "$(cluster_dir 3)"
  say "cluster data removed"
}

status() {
  local n
  n="$(running_count)"
  if [[ "$n" == 0 ]]; then say "not running"; return 1; fi
  local i all=0
  for ((i = 0; i < n; i++)); do
    if pid="$(node_pid "$n" "$i")"; then say "node $((i + 1)) pid $pid at $HOST:$(client_port "$i")"; else say "node $((i + 1)) down"; all=1; fi
  done
  return $all
}

env_cmd() {
  local n
  n="$(running_count)"
  [[ "$n" == 0 ]] && n=1
  echo "export CLOUDSMITH_TEST_KAFKA=$(bootstrap "$n")"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down ;;
  restart)
    # Same size as what ran, unless told otherwise.
    prev="$(running_count)"
    down
    if [[ $# -eq 0 && "$prev" != 0 ]]; then up --brokers "$prev"; else up "$@"; fi
    ;;
  reset) reset ;;
  env) env_cmd ;;
  status) status ;;
  *) echo "usage: $0 up [--brokers 1|3] | down | restart [--brokers N] | reset | env | status" >&2; exit 2 ;;
esac
