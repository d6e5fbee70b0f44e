# Go build helper shared by the component files that build Go programs (etcd, Kubernetes, KWOK, KubeRay,
# Helm). Sourced after hack/lib/common.sh, never executed.
#
# Released Go programs cannot always be built with a plain `go install module@version`: modules such as
# k8s.io/kubernetes or go.etcd.io/etcd/server carry `replace` directives pointing into their own source trees,
# which go install refuses and a dependent module ignores. So each program is built from a small wrapper
# module under $DARWIN_CACHE/<name>-<version>/src whose go.mod requires the program's module (plus any
# replaces that stand in for the ignored ones) and lists the main packages as `tool` directives, so
# `go mod tidy` keeps exactly what the build needs. Everything comes from the Go module proxy.

[[ -n ${_TB_GOBUILD_SOURCED:-} ]] && return 0
_TB_GOBUILD_SOURCED=1

# tb_go_have <bin-dir> <binary...>: true when every binary was built (a failed or interrupted build leaves
# one missing, and the next `up` builds again).
tb_go_have() {
  local dir=$1 b
  shift
  for b in "$@"; do [[ -x $dir/$b ]] || return 1; done
}

# tb_go_wrapper_build <cache-dir> <ldflags> <go.mod-body> <package...>
#   Writes <cache-dir>/src/go.mod (module line, go.mod body, one `tool` line per package), resolves it and
#   builds every package in one `go build` (one compile cache, one link step each) into <cache-dir>/bin.
#   A package given as ./<dir> is a main package the caller wrote into <cache-dir>/src/<dir> (a program
#   assembled from a module's libraries, such as CoreDNS with a chosen set of plugins); the binary is <dir>.
#   The full output goes to <cache-dir>/build.log and to stderr; a failure stops the testbed loudly.
#   The wall time of the build is kept in <cache-dir>/build-seconds (first builds are the slow ones).
tb_go_wrapper_build() {
  local dir=$1 ldflags=$2 body=$3
  shift 3
  local src=$dir/src log=$dir/build.log t0=$SECONDS p
  command -v go >/dev/null || tb_die "go is not on PATH (Go >= 1.26 is needed to build the testbed)"
  mkdir -p "$src" "$dir/bin"
  {
    echo "module darwin.dreamhorizon.org/testbed/$(basename "$dir")"
    echo
    printf '%s\n' "$body"
    echo
    for p in "$@"; do [[ $p == ./* ]] || echo "tool $p"; done
  } >"$src/go.mod"
  rm -f "$src/go.sum"
  tb_log "building $(basename "$dir") from the Go module proxy (log $log)"
  # CGO off: static binaries, no C toolchain needed (TB_GO_CGO=1 for the few programs that need C, such
  # as runc). -trimpath keeps cache paths out of the binaries.
  if ! (
    cd "$src" &&
      go mod tidy &&
      CGO_ENABLED=${TB_GO_CGO:-0} go build -trimpath -ldflags "$ldflags" -o "$dir/bin/" "$@"
  ) 2>&1 | tee "$log" >&2; then
    tb_die "building $(basename "$dir") failed; see $log"
  fi
  echo $((SECONDS - t0)) >"$dir/build-seconds"
  tb_log "built $(basename "$dir") in $((SECONDS - t0))s"
}
