#!/usr/bin/env bash
# Redis on 127.0.0.1 for BullMQ: use the one already running, or start the machine's own
# redis-server without persistence. Either way its eviction policy ends up noeviction,
# since BullMQ loses jobs if Redis may evict keys.
#
#   scripts/redis.sh start    use the running Redis or start one, then set noeviction
#   scripts/redis.sh stop     stop the Redis this script started (never another one)
#   scripts/redis.sh status   exit 0 when Redis answers, 1 when not
#
# Environment (defaults in brackets): REDIS_PORT [6379]  TOKENLINE_RUN [<repo>/.run]
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_PORT="${REDIS_PORT:-6379}"
REDIS_RUN="$RUN_DIR/redis-$REDIS_PORT"
REDIS_PID_FILE="$REDIS_RUN/redis.pid"
REDIS_LOG="$REDIS_RUN/redis.log"
REDIS_LOCK="$RUN_DIR/redis-$REDIS_PORT.lock"
REDIS_START_TIMEOUT=10

main() {
  case "${1:-}" in
    start) with_lock "$REDIS_LOCK" start ;;
    stop) with_lock "$REDIS_LOCK" stop ;;
    status) status ;;
    *) usage ;;
  esac
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

start() {
  command -v redis-cli >/dev/null || die redis "redis-cli not found (Debian: redis-tools)"

  if redis_answers; then
    say redis "using the Redis that answers on 127.0.0.1:$REDIS_PORT$(owner_note)"
  else
    ! port_open "$REDIS_PORT" || die redis "127.0.0.1:$REDIS_PORT is taken by something" \
      "that does not answer PING"
    launch
  fi
  ensure_noeviction
}

launch() {
  command -v redis-server >/dev/null || die redis "redis-server not found (Debian: redis-server)"

  local deadline=$((SECONDS + REDIS_START_TIMEOUT))
  mkdir -p "$REDIS_RUN"
  rm -f "$REDIS_PID_FILE"
  say redis "starting redis-server on 127.0.0.1:$REDIS_PORT (log: $REDIS_LOG)"
  # No snapshots and no append-only file: this Redis holds a work buffer for tests and
  # demos. fd 9 (the start lock) is closed so the daemon does not hold it.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save "" --appendonly no --maxmemory-policy noeviction \
    --dir "$REDIS_RUN" --pidfile "$REDIS_PID_FILE" --logfile "$REDIS_LOG" \
    </dev/null >"$REDIS_RUN/redis.out" 2>&1 9>&- ||
    { cat "$REDIS_RUN/redis.out" >&2; die redis "redis-server did not start"; }

  until redis_answers; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$REDIS_LOG" >&2
      die redis "redis-server did not answer within ${REDIS_START_TIMEOUT}s"
    fi
    sleep 0.1
  done
  say redis "ready on 127.0.0.1:$REDIS_PORT (pid $(our_pid || echo '?'))"
}

# BullMQ requires noeviction; Redis's own default, but a shared server may differ.
ensure_noeviction() {
  local policy
  policy="$(redis_cli config get maxmemory-policy | sed -n 2p)" ||
    die redis "CONFIG GET failed; BullMQ needs maxmemory-policy noeviction"

  if [[ "$policy" != noeviction ]]; then
    redis_cli config set maxmemory-policy noeviction >/dev/null ||
      die redis "could not set maxmemory-policy noeviction (it is $policy)"
    say redis "maxmemory-policy was $policy; set it to noeviction"
  fi
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$REDIS_PID_FILE"
    if redis_answers; then
      say redis "the Redis on 127.0.0.1:$REDIS_PORT was not started by this script;" \
        "leaving it alone"
    else
      say redis "not running"
    fi
    return 0
  fi

  say redis "stopping redis-server pid $pid"
  stop_pid redis "$pid" 10
  rm -f "$REDIS_PID_FILE"
  say redis "stopped"
}

status() {
  if redis_answers; then
    echo "redis: up on 127.0.0.1:$REDIS_PORT$(owner_note)," \
      "maxmemory-policy $(redis_cli config get maxmemory-policy | sed -n 2p)"
    return 0
  fi
  echo "redis: down"
  return 1
}

# our_pid: print the pid from the pid file if that process is a live redis-server.
our_pid() {
  local pid
  pid="$(cat "$REDIS_PID_FILE" 2>/dev/null)" || return 1
  pid_alive "$pid" redis-server || return 1
  echo "$pid"
}

owner_note() {
  local pid
  if pid="$(our_pid)"; then
    echo " (pid $pid, started by this script)"
  else
    echo " (not started by this script)"
  fi
}

redis_answers() {
  [[ "$(redis_cli ping 2>/dev/null)" == PONG ]]
}

redis_cli() {
  timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

main "$@"
