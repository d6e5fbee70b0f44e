# Shared helpers for the testbed scripts. Sourced, never executed.
#
# Layout:
#   $DARWIN_CACHE/<component>-<version>/   built binaries and downloaded jars/wheels (kept between runs)
#   $DARWIN_RUN/pids/<proc>.pid            "<pid> <starttime>" of every process the testbed started
#   $DARWIN_RUN/logs/<proc>.log            its output
#   $DARWIN_RUN/data/<component>/          throw-away data (removed by `down --purge`)
#   $DARWIN_RUN/testbed.env                KEY=VALUE lines for every endpoint that is up
#   $DARWIN_RUN/kubeconfig                 admin kubeconfig for the testbed apiserver

set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$HACK_DIR/.." && pwd)
DARWIN_CACHE=${DARWIN_CACHE:-$HOME/.cache/darwin-testbed}
DARWIN_RUN=${DARWIN_RUN:-${TMPDIR:-/tmp}/darwin-testbed}
export DARWIN_CACHE DARWIN_RUN
mkdir -p "$DARWIN_CACHE" "$DARWIN_RUN/pids" "$DARWIN_RUN/logs" "$DARWIN_RUN/data"

tb_log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
tb_die() { tb_log "error: $*"; exit 1; }

# Field 22 of /proc/<pid>/stat: the process start time, which tells a live process from a reused pid.
tb_starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# tb_running <proc>: true when the process recorded under <proc> is still the one we started.
tb_running() {
  local f="$DARWIN_RUN/pids/$1.pid" pid st
  [[ -f $f ]] || return 1
  read -r pid st <"$f" || return 1
  [[ -n $pid && "$(tb_starttime "$pid")" == "$st" ]]
}

# tb_spawn <proc> <cmd...>: start a command in its own session (so its children can be signalled as a
# group), output to logs/<proc>.log, and record its pid. Does nothing if <proc> is already running.
tb_spawn() {
  local proc=$1
  shift
  if tb_running "$proc"; then
    tb_log "$proc already running"
    return 0
  fi
  local log="$DARWIN_RUN/logs/$proc.log"
  : >"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  local pid=$!
  local st=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    st=$(tb_starttime "$pid")
    [[ -n $st ]] && break
    sleep 0.05
  done
  echo "$pid $st" >"$DARWIN_RUN/pids/$proc.pid"
  tb_log "started $proc (pid $pid, log $log)"
}

# tb_stop <proc> [timeout-seconds]: SIGTERM the process group we started, SIGKILL after the timeout.
tb_stop() {
  local proc=$1 timeout=${2:-20} f="$DARWIN_RUN/pids/$1.pid" pid st
  [[ -f $f ]] || return 0
  read -r pid st <"$f" || true
  if [[ -n ${pid:-} ]] && tb_running "$proc"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while tb_running "$proc" && ((SECONDS < deadline)); do sleep 0.2; done
    if tb_running "$proc"; then
      tb_log "$proc did not stop in ${timeout}s; killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    tb_log "stopped $proc"
  fi
  rm -f "$f"
}

# tb_kill9 <proc>: SIGKILL the process group at once (tests of crash recovery).
tb_kill9() {
  local f="$DARWIN_RUN/pids/$1.pid" pid st
  [[ -f $f ]] || return 0
  read -r pid st <"$f" || true
  if tb_running "$1"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    # wait until it is gone, so that a restart does not race the dying process for its ports and file locks
    local deadline=$((SECONDS + 10))
    while tb_running "$1" && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  rm -f "$f"
}

# tb_exited <component>: true when a process the component started has exited (it records pids under its
# name or <name>_<suffix>); components that start no process never count as exited.
tb_exited() {
  local f
  for f in "$DARWIN_RUN"/pids/"$1".pid "$DARWIN_RUN"/pids/"$1"_*.pid; do
    [[ -e $f ]] || continue
    tb_running "$(basename "$f" .pid)" || return 0
  done
  return 1
}

# tb_wait <timeout-seconds> <component> <cmd...>: poll a readiness check until it succeeds; fail at once,
# with the end of its log, when the component's process exits meanwhile.
tb_wait() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if tb_exited "$what"; then
      tail -n 20 "$DARWIN_RUN"/logs/"$what"*.log >&2 2>/dev/null || true
      tb_die "$what exited before it was ready (logs in $DARWIN_RUN/logs/)"
    fi
    if ((SECONDS >= deadline)); then
      tb_die "$what not ready after ${timeout}s (logs in $DARWIN_RUN/logs/)"
    fi
    sleep 0.5
  done
}

# tb_port_open <port>: true when something listens on 127.0.0.1:<port>.
tb_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Node 24 from the repo's node_modules comes first, so scripts that call node use the project's runtime.
if [[ -x $REPO_DIR/node_modules/.bin/node ]]; then PATH="$REPO_DIR/node_modules/.bin:$PATH"; fi
