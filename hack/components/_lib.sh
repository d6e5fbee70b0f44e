# Helpers shared by the data-service components (sourced by hack/testbed with the components; defines
# functions only).

# Python for the per-component virtualenvs (PyPI wheels are picked for this interpreter).
DARWIN_PYTHON=${DARWIN_PYTHON:-python3.11}

# tb_build_log <name>: where a component's build output goes.
tb_build_log() { echo "$DARWIN_RUN/logs/build-$1.log"; }

# tb_mvn_libs <name> <pom> <outdir> [-Dprop=value ...]: copy the runtime dependencies of <pom> from Maven
# Central into <outdir>, once. A finished copy is stamped in <outdir>/.complete with a hash of the pom and the
# arguments; a partial copy, or one made from another pom, is redone.
tb_mvn_libs() {
  local name=$1 pom=$2 out=$3
  shift 3
  local stamp
  stamp=$({ cat "$pom"; echo "$*"; } | sha256sum | cut -d' ' -f1)
  [[ -f $out/.complete && "$(cat "$out/.complete")" == "$stamp" ]] && return 0
  local log
  log=$(tb_build_log "$name")
  tb_log "$name: resolving jars from Maven Central into $out (log $log)"
  rm -rf "$out"
  mkdir -p "$out"
  if ! mvn -B -f "$pom" "$@" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$out" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$out"
    tb_die "$name: maven could not resolve the dependencies of $pom"
  fi
  echo "$stamp" >"$out/.complete"
}

# tb_pip_venv <name> <venv-dir> <requirement ...>: a virtualenv with pinned requirements from PyPI, once
# (stamped in <venv-dir>/.complete with the requirements; redone when they change or the install broke off).
tb_pip_venv() {
  local name=$1 dir=$2
  shift 2
  [[ -f $dir/.complete && "$(cat "$dir/.complete")" == "$*" ]] && return 0
  local log
  log=$(tb_build_log "$name")
  command -v "$DARWIN_PYTHON" >/dev/null || tb_die "$name: $DARWIN_PYTHON not found (set DARWIN_PYTHON)"
  tb_log "$name: installing $* from PyPI into $dir (log $log)"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  if ! { "$DARWIN_PYTHON" -m venv "$dir" && "$dir/bin/pip" install --no-input "$@"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$dir"
    tb_die "$name: pip could not install $*"
  fi
  echo "$*" >"$dir/.complete"
}

# tb_render <template> <output> KEY=VALUE ...: copy a config template, replacing every @KEY@ by VALUE.
tb_render() {
  local src=$1 dst=$2 kv expr=()
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$src" >"$dst.tmp"
  mv "$dst.tmp" "$dst"
}

# tb_tcp_probe <port> <request-bytes-as-printf-format> <nbytes>: send a request to 127.0.0.1:<port> and print
# the first <nbytes> bytes of the answer as hex ("84 00 00 00 06"), within 5 seconds.
tb_tcp_probe() {
  # shellcheck disable=SC2016 # the inner script expands its own positional arguments
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "$2" >&3 && head -c "$3" <&3 | od -An -tx1' \
    _ "$1" "$2" "$3" 2>/dev/null | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'
}

# tb_group_rss_kb <proc>: resident memory (KiB) of the process group the testbed started under <proc>.
tb_group_rss_kb() {
  local f="$DARWIN_RUN/pids/$1.pid" pid
  [[ -f $f ]] || { echo 0; return; }
  read -r pid _ <"$f"
  ps -o rss= -g "$pid" 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
