# KWOK: fake nodes and pod lifecycles without a kubelet, so the scheduler places pods and they turn Running
# with pod IPs. Built from sigs.k8s.io/kwok; its stage configs ship inside the module. Sourced by hack/testbed.
source "$HACK_DIR/kube/gobuild.sh"

KWOK_VERSION=${DARWIN_KWOK_VERSION:-v0.8.0}
KWOK_DIR=$DARWIN_CACHE/kwok-$KWOK_VERSION
KWOK_PORT=${DARWIN_KWOK_PORT:-28100}
# The stages: nodes become Ready at once and keep their Lease renewed; pods go straight to Running/Ready
# (and Succeeded/Failed for restartPolicy Never/OnFailure jobs), and are removed when deleted.
KWOK_STAGES=(node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease
  pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete)

kwok_build() {
  local s src
  if ! tb_go_have "$KWOK_DIR/bin" kwok; then
    tb_go_wrapper_build "$KWOK_DIR" "-s -w" "go 1.26

require sigs.k8s.io/kwok $KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  fi
  # Copy the stages out of the module cache, which `go clean -modcache` may empty.
  [[ -s $KWOK_DIR/stages/pod-delete.yaml ]] && return 0
  src=$(cd "$KWOK_DIR/src" && go mod download sigs.k8s.io/kwok && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok) ||
    tb_die "cannot locate sigs.k8s.io/kwok@$KWOK_VERSION in the module cache"
  mkdir -p "$KWOK_DIR/stages"
  for s in "${KWOK_STAGES[@]}"; do
    cp "$src/kustomize/stage/$s.yaml" "$KWOK_DIR/stages/" || tb_die "KWOK stage $s missing in $src"
  done
  chmod -R u+w "$KWOK_DIR/stages"
}

kwok_start() {
  kube_apiserver_ready || tb_die "KWOK needs the apiserver (hack/testbed up control)"
  local configs=() s
  for s in "${KWOK_STAGES[@]}"; do configs+=("--config=$KWOK_DIR/stages/${s##*/}.yaml"); done
  mkdir -p "$DARWIN_RUN/data/kwok"
  # KWOK_WORKDIR: keeps a ~/.kwok/kwok.yaml of the developer's out of the testbed.
  # --server-address/--node-port: KWOK's health and kubelet-like API on loopback, and the port the nodes
  # advertise, so the apiserver's logs/exec requests reach KWOK instead of a real kubelet port.
  # --cidr: pod IPs. They are never dialled: no pod has a process behind its IP.
  KWOK_WORKDIR=$DARWIN_RUN/data/kwok tb_spawn kwok "$KWOK_DIR/bin/kwok" \
    --kubeconfig="$KUBECONFIG_FILE" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 \
    --node-port="$KWOK_PORT" \
    --server-address="127.0.0.1:$KWOK_PORT" \
    --tls-cert-file="$KUBE_DATA/apiserver.crt" \
    --tls-private-key-file="$KUBE_DATA/apiserver.key" \
    --cidr=10.244.0.0/16 \
    --node-lease-duration-seconds=40 \
    "${configs[@]}"
  "$KUBE_BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE" apply --server-side --force-conflicts \
    --field-manager=darwin-testbed -f "$HACK_DIR/kwok/nodes.yaml" >&2
}

# Ready when KWOK answers and every testbed node reports Ready (KWOK set its conditions).
kwok_ready() {
  [[ $(curl -fsS --max-time 3 --cacert "$KUBE_DATA/ca.crt" "https://127.0.0.1:$KWOK_PORT/healthz") == ok ]] || return 1
  local want ready
  want=$(grep -c '^    name: kwok-' "$HACK_DIR/kwok/nodes.yaml")
  ready=$("$KUBE_BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE" get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
  ((ready >= want))
}

kwok_timeout() { echo 60; }

kwok_env() {
  echo "DARWIN_KWOK_NODES=$("$KUBE_BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE" get nodes -l type=kwok \
    -o jsonpath='{.items[*].metadata.name}' | tr ' ' ,)"
}
