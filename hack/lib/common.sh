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

# DARWIN_TESTBED_SLOT=1..6: a testbed beside the default one, so that several checkouts can each install their
# own CRDs and run their own operator at once. A slot has its own run directory, control plane, KWOK, KubeRay and
# local Darwin processes, on the default ports shifted by 30 per slot (a shift that meets no other slot's port,
# the data tier's or the Ray head's worker range 28300-28399); it uses the default testbed's data tier (Cassandra,
# Kafka, MariaDB, S3, MLflow, Ray), which must be up, and never starts or stops it.
DARWIN_TESTBED_SLOT=${DARWIN_TESTBED_SLOT:-}
DATA_TIER_COMPONENTS=" cassandra kafka mariadb s3 mlflow ray "
# the real node's components (tier `node`): one node per machine, run by the default testbed only
NODE_TIER_COMPONENTS="registry containerd kubelet kube_proxy coredns node_images"
if [[ -n $DARWIN_TESTBED_SLOT ]]; then
  [[ $DARWIN_TESTBED_SLOT =~ ^[1-6]$ ]] || { echo "DARWIN_TESTBED_SLOT must be one of 1 to 6" >&2; exit 2; }
  _shift=$((DARWIN_TESTBED_SLOT * 30))
  DARWIN_RUN=${DARWIN_RUN:-${TMPDIR:-/tmp}/darwin-testbed-slot$DARWIN_TESTBED_SLOT}
  : "${DARWIN_ETCD_PORT:=$((23790 + _shift))}" "${DARWIN_ETCD_PEER_PORT:=$((23800 + _shift))}"
  : "${DARWIN_KUBE_APISERVER_PORT:=$((26443 + _shift))}" "${DARWIN_KUBE_CONTROLLER_MANAGER_PORT:=$((26444 + _shift))}"
  : "${DARWIN_KUBE_SCHEDULER_PORT:=$((26445 + _shift))}" "${DARWIN_KWOK_PORT:=$((28100 + _shift))}"
  : "${DARWIN_KUBERAY_METRICS_PORT:=$((28080 + _shift))}" "${DARWIN_KUBERAY_PROBE_PORT:=$((28081 + _shift))}"
  : "${DARWIN_CHRONOS_PORT:=$((28090 + _shift))}" "${DARWIN_CATALOG_PORT:=$((28091 + _shift))}"
  : "${DARWIN_OPERATOR_HTTP:=127.0.0.1:$((28480 + _shift))}" "${DARWIN_FEATURE_SERVER_HTTP:=127.0.0.1:$((28490 + _shift))}"
  : "${DARWIN_MATERIALIZER_HTTP:=127.0.0.1:$((28492 + _shift))}"
  : "${DARWIN_ARGOCD_CONTROLLER_METRICS_PORT:=$((28082 + _shift))}" "${DARWIN_ARGOCD_REPO_SERVER_PORT:=$((28083 + _shift))}"
  : "${DARWIN_ARGOCD_REPO_SERVER_METRICS_PORT:=$((28084 + _shift))}" "${DARWIN_REDIS_PORT:=$((28085 + _shift))}"
  : "${DARWIN_GIT_DAEMON_PORT:=$((28086 + _shift))}"
  export DARWIN_ETCD_PORT DARWIN_ETCD_PEER_PORT DARWIN_KUBE_APISERVER_PORT DARWIN_KUBE_CONTROLLER_MANAGER_PORT \
    DARWIN_KUBE_SCHEDULER_PORT DARWIN_KWOK_PORT DARWIN_KUBERAY_METRICS_PORT DARWIN_KUBERAY_PROBE_PORT \
    DARWIN_CHRONOS_PORT DARWIN_CATALOG_PORT DARWIN_OPERATOR_HTTP DARWIN_FEATURE_SERVER_HTTP DARWIN_MATERIALIZER_HTTP \
    DARWIN_ARGOCD_CONTROLLER_METRICS_PORT DARWIN_ARGOCD_REPO_SERVER_PORT DARWIN_ARGOCD_REPO_SERVER_METRICS_PORT \
    DARWIN_REDIS_PORT DARWIN_GIT_DAEMON_PORT
fi
DARWIN_RUN=${DARWIN_RUN:-${TMPDIR:-/tmp}/darwin-testbed}
export DARWIN_CACHE DARWIN_RUN DARWIN_TESTBED_SLOT
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
  local f proc
  for f in "$DARWIN_RUN"/pids/"$1".pid "$DARWIN_RUN"/pids/"$1"_*.pid; do
    [[ -e $f ]] || continue
    proc=$(basename "$f" .pid)
    # another component whose name starts with this one's (chronos_processor for chronos) is not ours
    [[ $proc != "$1" ]] && declare -F "${proc}_start" >/dev/null && continue
    tb_running "$proc" || return 0
  done
  return 1
}

# tb_forget_dead: drop the pid files of processes that are gone (a machine or session that ended without
# `down`), so that nothing mistakes them for a component that started and exited.
tb_forget_dead() {
  local f
  for f in "$DARWIN_RUN"/pids/*.pid; do
    [[ -e $f ]] || continue
    tb_running "$(basename "$f" .pid)" || rm -f "$f"
  done
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
