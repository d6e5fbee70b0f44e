# The KubeRay operator, built from github.com/ray-project/kuberay/ray-operator and run against the testbed
# apiserver; with KWOK, RayClusters get head and worker pods that turn Running. RayJob and RayService need a
# live Ray dashboard in the head pod and stall here. Sourced by hack/testbed.
source "$HACK_DIR/kube/gobuild.sh"

KUBERAY_VERSION=${DARWIN_KUBERAY_VERSION:-v1.5.0}
KUBERAY_DIR=$DARWIN_CACHE/kuberay-$KUBERAY_VERSION
KUBERAY_METRICS_PORT=${DARWIN_KUBERAY_METRICS_PORT:-28080}
KUBERAY_PROBE_PORT=${DARWIN_KUBERAY_PROBE_PORT:-28081}
# RayClusters reconciled at once. KubeRay's default is 1: one RayCluster at a time, about one head pod a
# second here, which made a burst of 300 DarwinClusters wait minutes for Ready (bench/operator-scale).
KUBERAY_RECONCILE_CONCURRENCY=${DARWIN_KUBERAY_RECONCILE_CONCURRENCY:-16}

kuberay_build() {
  local src
  if ! tb_go_have "$KUBERAY_DIR/bin" ray-operator; then
    tb_go_wrapper_build "$KUBERAY_DIR" "-s -w" "go 1.24

require github.com/ray-project/kuberay/ray-operator $KUBERAY_VERSION" github.com/ray-project/kuberay/ray-operator
  fi
  # The CRDs and samples ship in the module; copy them out of the module cache, which `go clean -modcache`
  # may empty.
  compgen -G "$KUBERAY_DIR/crds/ray.io_*.yaml" >/dev/null && [[ -f $KUBERAY_DIR/samples/ray-cluster.sample.yaml ]] &&
    return 0
  local m=github.com/ray-project/kuberay/ray-operator
  src=$(cd "$KUBERAY_DIR/src" && go mod download "$m" && go list -m -f '{{.Dir}}' "$m") ||
    tb_die "cannot locate $m@$KUBERAY_VERSION in the module cache"
  mkdir -p "$KUBERAY_DIR/crds"
  cp "$src"/config/crd/bases/ray.io_*.yaml "$KUBERAY_DIR/crds/" || tb_die "no KubeRay CRDs in $src"
  mkdir -p "$KUBERAY_DIR/samples"
  cp "$src"/config/samples/ray-cluster.*.yaml "$KUBERAY_DIR/samples/" || tb_die "no KubeRay samples in $src"
  chmod -R u+w "$KUBERAY_DIR/crds" "$KUBERAY_DIR/samples"
}

kuberay_start() {
  kube_apiserver_ready || tb_die "KubeRay needs the apiserver (hack/testbed up control)"
  local kubectl=("$KUBE_BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE")
  # The CRDs are too large for client-side apply (its last-applied annotation exceeds 256 KiB), so
  # server-side apply; --force-conflicts takes them over from any earlier manager (e.g. a Helm install).
  "${kubectl[@]}" apply --server-side --force-conflicts --field-manager=darwin-testbed \
    -f "$KUBERAY_DIR/crds/" >&2
  "${kubectl[@]}" wait --for condition=established --timeout=60s \
    crd/rayclusters.ray.io crd/rayjobs.ray.io crd/rayservices.ray.io >&2
  # One operator, no leader election (nothing to fail over to). Metrics and probes on loopback.
  KUBECONFIG=$KUBECONFIG_FILE tb_spawn kuberay "$KUBERAY_DIR/bin/ray-operator" \
    --enable-leader-election=false \
    --reconcile-concurrency="$KUBERAY_RECONCILE_CONCURRENCY" \
    --metrics-addr="127.0.0.1:$KUBERAY_METRICS_PORT" \
    --health-probe-bind-address="127.0.0.1:$KUBERAY_PROBE_PORT" \
    --log-stdout-encoder=console
}

kuberay_ready() { [[ $(curl -fsS --max-time 3 "http://127.0.0.1:$KUBERAY_PROBE_PORT/readyz") == ok ]]; }

kuberay_timeout() { echo 90; }

kuberay_env() {
  echo "DARWIN_KUBERAY_VERSION=$KUBERAY_VERSION"
  echo "DARWIN_KUBERAY_METRICS=http://127.0.0.1:$KUBERAY_METRICS_PORT/metrics"
  echo "DARWIN_KUBERAY_SAMPLES=$KUBERAY_DIR/samples"
}
