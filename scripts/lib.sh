# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
#
# Gives: REPO_ROOT, RUN_DIR, CACHE_DIR, say, die, pid_alive, port_open, with_lock, stop_pid.
# shellcheck disable=SC2034 # the variables are for the scripts that source this file

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Where running services keep their data, logs and pid files (ignored by git).
RUN_DIR="${TOKENLINE_RUN:-$REPO_ROOT/.run}"
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR"

# Where downloaded artifacts are kept across clones and sessions.
CACHE_DIR="${TOKENLINE_CACHE:-$HOME/.cache/tokenline}"

# say TAG MESSAGE...: one progress line on stderr, so stdout stays for data.
say() {
  local tag="$1"
  shift
  printf '[%s] %s\n' "$tag" "$*" >&2
}

die() {
  say "${1:-error}" "${*:2}"
  exit 1
}

# pid_alive PID [PATTERN]: the process exists and, if PATTERN is given, its command
# line contains it. The pattern guards against a pid that the system has reused.
pid_alive() {
  local pid="$1" pattern="${2:-}"

  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -z "$pattern" ]] && return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# with_lock FILE COMMAND...: run COMMAND while holding an exclusive lock on FILE, so two
# callers (a test run and a demo, say) cannot start or stop the same service at once.
with_lock() {
  local file="$1"
  shift

  mkdir -p "$(dirname "$file")"
  (
    flock -w 120 9 || die lock "timed out waiting for $file"
    "$@"
  ) 9>"$file"
}

# stop_pid TAG PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_pid() {
  local tag="$1" pid="$2" grace="$3" waited=0

  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((waited < grace * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$tag" "pid $pid still up after ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    # Bounded too: a killed process that nobody reaps stays visible as a zombie.
    for _ in {1..50}; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
}
