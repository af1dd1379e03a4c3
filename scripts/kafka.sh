#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker and controller in one JVM) on 127.0.0.1,
# run from Apache Kafka's own jars on Maven Central: no Docker, no distribution tarball.
#
#   scripts/kafka.sh fetch            download the jars once into the cache
#   scripts/kafka.sh start            fetch if needed, format once, start, wait until ready
#   scripts/kafka.sh stop             SIGTERM, then SIGKILL after a grace period
#   scripts/kafka.sh status           exit 0 when a broker answers, 1 when not
#   scripts/kafka.sh reset            stop and delete all broker data
#   scripts/kafka.sh topics ARGS...   kafka-topics (TopicCommand) against this broker
#   scripts/kafka.sh tool CLASS ARGS  any org.apache.kafka.tools class, e.g. ConsoleProducer
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]  KAFKA_CONTROLLER_PORT [9093]  KAFKA_VERSION [4.1.2]
#   KAFKA_START_TIMEOUT [60] seconds  KAFKA_HEAP_OPTS [-Xms256m -Xmx512m]  KAFKA_JVM_OPTS []
#   TOKENLINE_CACHE [~/.cache/tokenline]  TOKENLINE_RUN [<repo>/.run]
#
# Data, config and logs live in $TOKENLINE_RUN/kafka (broker log: logs/server.log).
# A start after a crash (kill -9) takes about 10 s more: the controller keeps the old
# broker registration until its session times out (broker.session.timeout.ms, 9 s).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"

# The maven-dependency-plugin is pinned so that a fetch does not depend on whichever
# version the local Maven would pick by prefix.
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
FETCH_MARKER="$KAFKA_HOME/.fetch-complete"

KAFKA_RUN="$RUN_DIR/kafka"
KAFKA_DATA="$KAFKA_RUN/data"
KAFKA_PID_FILE="$KAFKA_RUN/kafka.pid"
KAFKA_OUT="$KAFKA_RUN/kafka.out"
KAFKA_FORMAT_OUT="$KAFKA_RUN/format.out"
KAFKA_LOG="$KAFKA_RUN/logs/server.log"
KAFKA_LOCK="$RUN_DIR/kafka.lock"

# The broker's main class and config file end its command line; together they identify
# the broker of this run directory among all processes.
BROKER_MAIN="kafka.Kafka"
BROKER_CMD="$BROKER_MAIN $KAFKA_RUN/server.properties"

main() {
  local command="${1:-}"
  shift || true

  case "$command" in
    fetch) fetch ;;
    start) with_lock "$KAFKA_LOCK" start ;;
    stop) with_lock "$KAFKA_LOCK" stop ;;
    status) status ;;
    reset) with_lock "$KAFKA_LOCK" reset ;;
    topics) topics "$@" ;;
    tool) tool "$@" ;;
    *) usage ;;
  esac
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------
# fetch

fetch() {
  if [[ -f "$FETCH_MARKER" ]]; then
    say kafka "Kafka $KAFKA_VERSION jars already in $KAFKA_LIBS"
    return 0
  fi
  with_lock "$KAFKA_HOME.lock" fetch_locked
}

fetch_locked() {
  # Another caller may have finished the fetch while this one waited for the lock.
  [[ -f "$FETCH_MARKER" ]] && return 0
  command -v mvn >/dev/null || die kafka "mvn not found: Maven fetches Kafka's jars"
  require_java

  local work started=$EPOCHREALTIME
  mkdir -p "$KAFKA_HOME"
  # Download next to the cache, then move into place: a half-done fetch never looks done.
  work="$(mktemp -d "$KAFKA_HOME/.fetch.XXXXXX")"
  say kafka "fetching Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central"
  write_fetch_pom "$work/pom.xml"

  if ! mvn -B -q -f "$work/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
    tail -n 30 "$work/mvn.log" >&2
    rm -rf "$work"
    die kafka "Maven could not fetch Kafka $KAFKA_VERSION"
  fi
  [[ -f "$work/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || die kafka "fetch lacks the broker jar"

  rm -rf "$KAFKA_LIBS"
  mv "$work/libs" "$KAFKA_LIBS"
  rm -rf "$work"
  # The marker is written last: its presence means the jar set is complete.
  ls "$KAFKA_LIBS" >"$FETCH_MARKER"
  say kafka "fetched $(wc -l <"$FETCH_MARKER") jars in $(seconds_since "$started")s into $KAFKA_LIBS"
}

# The server (kafka_2.13: kafka.Kafka, kafka.tools.StorageTool), the command-line tools
# (kafka-tools: TopicCommand, console producer and consumer), and an SLF4J 1.x binding to
# Log4j 2 so that the broker logs to a file instead of printing SLF4J's no-binding warning.
# kafka-tools would also bring Kafka Connect's runtime (Jetty, Jersey); no tool used
# here needs it, so it is left out.
write_fetch_pom() {
  cat >"$1" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tokenline</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion>
          <groupId>org.apache.kafka</groupId>
          <artifactId>connect-runtime</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>2.24.3</version>
    </dependency>
  </dependencies>
</project>
EOF
}

require_java() {
  command -v java >/dev/null || die kafka "java not found: Kafka $KAFKA_VERSION needs Java 17+"

  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  ((${major:-0} >= 17)) || die kafka "Kafka $KAFKA_VERSION needs Java 17+, found Java ${major:-?}"
}

# ---------------------------------------------------------------------------------------
# start

start() {
  [[ -f "$FETCH_MARKER" ]] || fetch
  require_java

  if port_open "$KAFKA_PORT"; then
    kafka_answers || die kafka "127.0.0.1:$KAFKA_PORT is taken by something that is not Kafka"
    say kafka "a broker already answers on 127.0.0.1:$KAFKA_PORT; not starting another"
    return 0
  fi

  local pid
  pid="$(broker_pid)" || true
  if [[ -n "$pid" ]]; then
    say kafka "broker pid $pid is still starting; waiting for it"
    wait_until_ready "$pid" "$EPOCHREALTIME"
    return 0
  fi
  ! port_open "$KAFKA_CONTROLLER_PORT" || die kafka "controller port $KAFKA_CONTROLLER_PORT is taken"

  mkdir -p "$KAFKA_RUN/logs" "$KAFKA_DATA"
  write_server_properties
  write_log4j_configs
  format_storage_once
  launch_broker
}

write_server_properties() {
  cat >"$KAFKA_RUN/server.properties" <<EOF
# Written by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
# A static single-voter quorum: nothing about the ports is stored in the metadata log,
# so KAFKA_PORT and KAFKA_CONTROLLER_PORT can change between starts.
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA

# One broker: every internal topic has one replica, and one partition keeps it light.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=1

# Tests create their topics explicitly and expect a consumer group to form at once.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
EOF
}

write_log4j_configs() {
  # The broker logs to a file; the short-lived tools print warnings only, on stderr.
  cat >"$KAFKA_RUN/log4j2.properties" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $KAFKA_LOG
appender.file.filePattern = $KAFKA_LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
  write_tools_log4j_config
}

write_tools_log4j_config() {
  mkdir -p "$KAFKA_RUN"
  cat >"$KAFKA_RUN/tools-log4j2.properties" <<EOF
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

# Formatting writes meta.properties and the bootstrap metadata into the log directory.
# It is done once: formatting again would need a wipe (see reset).
format_storage_once() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0

  local cluster_id
  cluster_id="$(run_tool kafka.tools.StorageTool random-uuid)"
  say kafka "formatting $KAFKA_DATA (cluster id $cluster_id)"
  run_tool kafka.tools.StorageTool format --config "$KAFKA_RUN/server.properties" \
    --cluster-id "$cluster_id" >"$KAFKA_FORMAT_OUT" 2>&1 ||
    { tail -n 20 "$KAFKA_FORMAT_OUT" >&2; die kafka "formatting the storage failed"; }
}

launch_broker() {
  local started=$EPOCHREALTIME pid

  say kafka "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_LOG)"
  rm -f "$KAFKA_PID_FILE"
  # Remember where this run's part of the log begins, to show only that on failure.
  LOG_LINES_BEFORE=0
  [[ -f "$KAFKA_LOG" ]] && LOG_LINES_BEFORE="$(wc -l <"$KAFKA_LOG")"
  # Log4j's own shutdown hook is off so that the broker's shutdown lines still reach the
  # log file (the appender flushes every line).
  # setsid detaches the broker from the caller's terminal and process group; the inner
  # shell records its own pid and then becomes the JVM, so the pid file names the JVM.
  # fd 9 (the start lock) is closed so the broker does not hold the lock for its life.
  # shellcheck disable=SC2086,SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$KAFKA_PID_FILE" \
    java $KAFKA_HEAP_OPTS -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.properties" \
    -Dlog4j2.shutdownHookEnabled=false \
    $KAFKA_JVM_OPTS -cp "$KAFKA_LIBS/*" "$BROKER_MAIN" "$KAFKA_RUN/server.properties" \
    </dev/null >"$KAFKA_OUT" 2>&1 9>&- &

  # Wait for the inner shell to write the pid file.
  for _ in {1..50}; do
    pid="$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  [[ -n "$pid" ]] || die kafka "the broker did not record its pid in $KAFKA_PID_FILE"
  wait_until_ready "$pid" "$started"
}

# wait_until_ready PID STARTED: poll until the broker answers a metadata request, the
# process dies, or KAFKA_START_TIMEOUT passes. A broker that never came up is stopped.
# STARTED is an $EPOCHREALTIME, used only to report how long the start took.
wait_until_ready() {
  local pid="$1" started="$2"
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))

  while ((SECONDS < deadline)); do
    pid_alive "$pid" "$BROKER_CMD" || start_failed "the broker (pid $pid) exited"
    if kafka_answers && metadata_answers; then
      say kafka "ready on 127.0.0.1:$KAFKA_PORT after $(seconds_since "$started")s (pid $pid)"
      return 0
    fi
    sleep 0.2
  done
  stop_pid kafka "$pid" 10
  rm -f "$KAFKA_PID_FILE"
  start_failed "the broker did not answer within ${KAFKA_START_TIMEOUT}s; stopped it"
}

start_failed() {
  say kafka "$1; the end of $KAFKA_LOG, then of $KAFKA_OUT:"
  tail -n "+$((${LOG_LINES_BEFORE:-0} + 1))" "$KAFKA_LOG" 2>/dev/null | tail -n 40 >&2 || true
  tail -n 20 "$KAFKA_OUT" >&2 2>/dev/null || true
  rm -f "$KAFKA_PID_FILE"
  exit 1
}

# seconds_since EPOCHREALTIME: elapsed seconds with one decimal.
seconds_since() {
  local now=$EPOCHREALTIME
  local tenths=$(((${now//[!0-9]/} - ${1//[!0-9]/}) / 100000))
  printf '%d.%d' $((tenths / 10)) $((tenths % 10))
}

# kafka_answers: an ApiVersions request (key 18, version 0) written by hand over
# /dev/tcp, so a check costs no JVM. Request: int32 size, int16 key, int16 version,
# int32 correlation id, string client id ("tl"). The response starts with int32 size,
# the same correlation id, and an int16 error code: 0, or 35 (UNSUPPORTED_VERSION) from a
# broker that no longer takes version 0, which still proves a Kafka broker is serving.
kafka_answers() {
  local reply
  # shellcheck disable=SC2016 # the inner script expands its own $0
  reply="$(
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
      printf "\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x07\x00\x02tl" >&3
      head -c 10 <&3 | od -An -tx1 | tr -d " \n"
    ' "$KAFKA_PORT" 2>/dev/null
  )" || return 1
  [[ "$reply" =~ ^[0-9a-f]{8}00000007(0000|0023)$ ]]
}

# metadata_answers: a real client (the admin client inside kafka-topics) lists topics,
# which needs a Metadata response from an unfenced broker.
metadata_answers() {
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
    --command-config "$(quick_client_config)" --list >/dev/null 2>&1
}

quick_client_config() {
  local file="$KAFKA_RUN/quick-client.properties"
  printf '%s\n' request.timeout.ms=3000 default.api.timeout.ms=5000 >"$file"
  echo "$file"
}

# ---------------------------------------------------------------------------------------
# stop, status, reset

# broker_pid: print the pid of the broker that runs on this run directory's config: the
# one in the pid file, or, should that file be lost, the one found by its command line.
broker_pid() {
  local pid

  pid="$(cat "$KAFKA_PID_FILE" 2>/dev/null)" || pid=""
  if pid_alive "$pid" "$BROKER_CMD"; then
    echo "$pid"
    return 0
  fi
  for pid in $(pgrep -f "$BROKER_MAIN" || true); do
    if pid_alive "$pid" "$BROKER_CMD"; then
      echo "$pid" >"$KAFKA_PID_FILE"
      echo "$pid"
      return 0
    fi
  done
  return 1
}

stop() {
  local pid
  if ! pid="$(broker_pid)"; then
    rm -f "$KAFKA_PID_FILE"
    if kafka_answers; then
      say kafka "the broker on 127.0.0.1:$KAFKA_PORT does not run on $KAFKA_RUN;" \
        "leaving it alone"
    else
      say kafka "not running"
    fi
    return 0
  fi

  say kafka "stopping broker pid $pid"
  # A controlled shutdown of a single node takes a few seconds; 30 s is generous.
  stop_pid kafka "$pid" 30
  rm -f "$KAFKA_PID_FILE"
  say kafka "stopped"
}

status() {
  local pid
  pid="$(broker_pid)" || pid=""

  if kafka_answers; then
    echo "kafka: up on 127.0.0.1:$KAFKA_PORT (${pid:+pid $pid}$([[ -n "$pid" ]] || echo "not ours"))"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    echo "kafka: starting or stuck (pid $pid), not answering on 127.0.0.1:$KAFKA_PORT"
  else
    echo "kafka: down"
  fi
  return 1
}

reset() {
  stop
  say kafka "deleting $KAFKA_RUN"
  rm -rf "$KAFKA_RUN"
}

# ---------------------------------------------------------------------------------------
# tools

# run_tool CLASS ARGS...: a short-lived tool JVM on the cached jars. C1-only compilation
# and the serial collector make these start in about half the time.
run_tool() {
  local main="$1"
  shift

  [[ -f "$KAFKA_RUN/tools-log4j2.properties" ]] || write_tools_log4j_config
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms64m -Xmx512m \
    -Dlog4j2.configurationFile="$KAFKA_RUN/tools-log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$main" "$@"
}

topics() {
  tool TopicCommand "$@"
}

# tool CLASS ARGS...: CLASS is a simple name in org.apache.kafka.tools (TopicCommand,
# ConsoleProducer, ConsoleConsumer, GroupsCommand, ...) or a fully qualified one.
# --bootstrap-server is added unless the arguments name a bootstrap already (a tool such
# as ProducerPerformance takes it as --producer-props bootstrap.servers=... instead).
tool() {
  local main="${1:-}"
  [[ -n "$main" ]] || die kafka "usage: kafka.sh tool CLASS [ARGS...]"
  shift
  [[ -f "$FETCH_MARKER" ]] || fetch
  [[ "$main" == *.* ]] || main="$(tool_class "$main")"

  if [[ "$*" == *bootstrap* ]]; then
    run_tool "$main" "$@"
  else
    run_tool "$main" --bootstrap-server "127.0.0.1:$KAFKA_PORT" "$@"
  fi
}

# tool_class NAME: the fully qualified name of the class NAME in the kafka-tools jar
# (ConsoleProducer lives in org.apache.kafka.tools, ConsoleConsumer one package deeper).
tool_class() {
  local index="$KAFKA_HOME/tool-classes.txt" found

  if [[ ! -f "$index" ]]; then
    list_jar "$KAFKA_LIBS/kafka-tools-$KAFKA_VERSION.jar" |
      sed -n 's#^\(org/apache/kafka/tools/.*\)\.class$#\1#p' | grep -v '\$' | tr / . \
      >"$index.$$"
    mv "$index.$$" "$index"
  fi
  found="$(grep -m 1 "\.$1\$" "$index")" || die kafka "no tool class named $1 in kafka-tools"
  echo "$found"
}

list_jar() {
  if command -v unzip >/dev/null; then unzip -Z1 "$1"; else jar tf "$1"; fi
}

main "$@"
