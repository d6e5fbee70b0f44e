# The real node (tier `node`): containerd and runc run real pods for a kubelet and kube-proxy from the
# testbed's Kubernetes build, on a bridge made by Debian's CNI plugins, with CoreDNS answering Service names
# and a local OCI registry the node pulls the project's images from. Sourced by hack/testbed.
#
# The node `darwin-node-0` is labelled darwin.dreamhorizon.org/node=real and tainted with the same key, so
# only pods that tolerate it land there (the KWOK nodes keep every other pod). A namespace annotated like
# node_namespace_annotations sends all its pods there with no change to the workloads.
source "$HACK_DIR/kube/gobuild.sh"

NODE_NAME=darwin-node-0
NODE_KEY=darwin.dreamhorizon.org/node
# The pods' bridge carries the node's address: the kubelet, its API and CoreDNS listen there (reachable from
# this machine and from pods, nowhere else), and the apiserver dials the kubelet at it.
NODE_BRIDGE=darwin0
NODE_IP=10.88.0.1
NODE_POD_CIDR=10.88.0.0/16
NODE_DATA=$DARWIN_RUN/data/node
NODE_KUBELET_PORT=${DARWIN_NODE_KUBELET_PORT:-26450}
NODE_KUBELET_HEALTHZ_PORT=${DARWIN_NODE_KUBELET_HEALTHZ_PORT:-26451}
NODE_PROXY_HEALTHZ_PORT=${DARWIN_NODE_PROXY_HEALTHZ_PORT:-26452}
NODE_PROXY_METRICS_PORT=${DARWIN_NODE_PROXY_METRICS_PORT:-26453}
NODE_COREDNS_HEALTH_PORT=${DARWIN_NODE_COREDNS_HEALTH_PORT:-26454}
NODE_COREDNS_READY_PORT=${DARWIN_NODE_COREDNS_READY_PORT:-26455}
NODE_STREAM_PORT=${DARWIN_NODE_STREAM_PORT:-26456}
NODE_REGISTRY_PORT=${DARWIN_NODE_REGISTRY_PORT:-25500}
NODE_REGISTRY=127.0.0.1:$NODE_REGISTRY_PORT
# The same registry as pods reach it (image builds push there): the node's address, forwarded to loopback
# (node_loopback_forward). The node pulls images named either way.
NODE_REGISTRY_POD=$NODE_IP:$NODE_REGISTRY_PORT
NODE_FORWARD_RULE_COMMENT="darwin: a loopback service at the node address"

CONTAINERD_VERSION=${DARWIN_CONTAINERD_VERSION:-v2.4.2}
CONTAINERD_DIR=$DARWIN_CACHE/containerd-$CONTAINERD_VERSION
CONTAINERD_SOCK=$NODE_DATA/containerd/containerd.sock
# runc: the version containerd's own tests use (script/setup/runc-version). With Debian's 1.1.5, pod
# sandboxes failed with a bare "can't get final child's PID from pipe: EOF"; 1.5.2 named the cause (the OOM
# score, see containerd_start), and 1.1.5 was not tried again after that fix.
RUNC_VERSION=${DARWIN_RUNC_VERSION:-v1.5.2}
RUNC_DIR=$DARWIN_CACHE/runc-$RUNC_VERSION
CRICTL_VERSION=${DARWIN_CRICTL_VERSION:-v1.37.0}
CRICTL_DIR=$DARWIN_CACHE/cri-tools-$CRICTL_VERSION
COREDNS_VERSION=${DARWIN_COREDNS_VERSION:-v1.15.0}
# The sandbox image containerd is configured with; built from the Kubernetes module's pause.c, under the
# tag its build/pause/Makefile gives.
NODE_PAUSE_IMAGE=registry.k8s.io/pause:3.10.2
NODE_PAUSE_DIR=$KUBE_DIR/pause

# Debian packages the node uses as they come: iptables, the CNI plugins, the registry, the image tools
# (mmdebstrap for the base, buildah to build on it; buildah brings Debian's runc for its own use), and
# libseccomp's headers for building runc.
NODE_DEBIAN_PACKAGES=(iptables conntrack containernetworking-plugins docker-registry mmdebstrap buildah
  libseccomp-dev gcc libc6-dev)
NODE_CNI_BIN=/usr/lib/cni
NODE_RUNC=$RUNC_DIR/bin/runc

node_ctr() { "$CONTAINERD_DIR/bin/ctr" --address "$CONTAINERD_SOCK" --namespace k8s.io "$@" 2> >(grep -v DEPRECATION >&2); }
node_crictl() { "$CRICTL_DIR/bin/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 30s "$@"; }
node_kubectl() { "$KUBE_BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE" "$@"; }
# buildah with its own storage in the cache (images built once are kept between runs)
node_buildah() {
  buildah --root "$DARWIN_CACHE/buildah/storage" --runroot "$DARWIN_RUN/buildah" --storage-driver overlay "$@"
}

# The annotations that send every pod of a namespace to the real node (PodNodeSelector and
# PodTolerationRestriction admission, enabled on the testbed apiserver).
node_namespace_annotations() {
  echo "scheduler.alpha.kubernetes.io/node-selector=$NODE_KEY=real"
  echo "scheduler.alpha.kubernetes.io/defaultTolerations=[{\"key\":\"$NODE_KEY\",\"operator\":\"Equal\",\"value\":\"real\",\"effect\":\"NoSchedule\"}]"
}

# ---------------------------------------------------------------------------------------------- build
node_debian_packages() {
  local missing=() p log
  for p in "${NODE_DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log=$(tb_build_log node-debian)
  tb_log "node: installing ${missing[*]} from Debian (log $log)"
  # policy-rc.d keeps the packages' services (the registry's) from starting: the testbed starts its own.
  if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
      { tail -n 30 "$log" >&2; tb_die "node: apt-get install ${missing[*]} failed"; }
  fi
}

# The pause image: pause.c from the Kubernetes module, linked statically, alone in an image (FROM scratch).
node_pause_build() {
  [[ -s $NODE_PAUSE_DIR/pause.oci.tar ]] && return 0
  local src
  src=$(cd "$DARWIN_CACHE" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -f $src/build/pause/linux/pause.c ]] || tb_die "pause.c not found in k8s.io/kubernetes@$KUBE_VERSION ($src)"
  mkdir -p "$NODE_PAUSE_DIR"
  gcc -Os -Wall -Werror -static -DVERSION="v${NODE_PAUSE_IMAGE##*:}-$KUBE_VERSION" -o "$NODE_PAUSE_DIR/pause" \
    "$src/build/pause/linux/pause.c" || tb_die "compiling pause.c failed"
  strip "$NODE_PAUSE_DIR/pause"
  local c
  c=$(node_buildah from scratch)
  node_buildah copy "$c" "$NODE_PAUSE_DIR/pause" /pause >/dev/null
  node_buildah config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  rm -f "$NODE_PAUSE_DIR/pause.oci.tar.tmp"
  node_buildah commit --quiet --format oci "$c" "oci-archive:$NODE_PAUSE_DIR/pause.oci.tar.tmp:$NODE_PAUSE_IMAGE" >/dev/null
  node_buildah rm "$c" >/dev/null
  mv "$NODE_PAUSE_DIR/pause.oci.tar.tmp" "$NODE_PAUSE_DIR/pause.oci.tar"
}

containerd_build() {
  node_debian_packages
  # containerd itself needs no cgo; no_btrfs leaves out the btrfs snapshotter, which would need its headers.
  tb_go_have "$CONTAINERD_DIR/bin" containerd containerd-shim-runc-v2 ctr ||
    GOFLAGS="-buildvcs=false -tags=no_btrfs" tb_go_wrapper_build "$CONTAINERD_DIR" \
      "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" "go 1.26

require github.com/containerd/containerd/v2 $CONTAINERD_VERSION" \
      github.com/containerd/containerd/v2/cmd/containerd \
      github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
      github.com/containerd/containerd/v2/cmd/ctr
  # runc needs cgo (its nsexec is C) and libseccomp for seccomp profiles
  tb_go_have "$RUNC_DIR/bin" runc ||
    TB_GO_CGO=1 GOFLAGS="-buildvcs=false -tags=seccomp,urfave_cli_no_docs" tb_go_wrapper_build "$RUNC_DIR" \
      "-s -w -X main.version=${RUNC_VERSION#v}" "go 1.26

require github.com/opencontainers/runc $RUNC_VERSION" github.com/opencontainers/runc
  # crictl: the CRI client that removes pods the way the kubelet does (CNI teardown included) when the
  # node stops, and that tests use to look at containers.
  tb_go_have "$CRICTL_DIR/bin" crictl ||
    tb_go_wrapper_build "$CRICTL_DIR" "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" "go 1.26

require sigs.k8s.io/cri-tools $CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  node_pause_build
}
registry_build() { node_debian_packages; }
kubelet_build() { kube_build kubelet kube-proxy; }
kube_proxy_build() { kube_build kubelet kube-proxy; }

# ------------------------------------------------------------------------------------------- registry
# Debian's docker-registry (distribution 2.8). Its storage is content-addressed and kept in the cache, so
# images pushed once are there on the next start.
registry_start() {
  mkdir -p "$NODE_DATA" "$DARWIN_CACHE/registry"
  cat >"$NODE_DATA/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DARWIN_CACHE/registry
  delete:
    enabled: true
http:
  addr: $NODE_REGISTRY
YAML
  tb_spawn registry /usr/bin/docker-registry serve "$NODE_DATA/registry.yml"
}

registry_ready() { curl -fsS --max-time 3 "http://$NODE_REGISTRY/v2/" >/dev/null; }

registry_timeout() { echo 30; }

registry_env() {
  echo "DARWIN_REGISTRY=$NODE_REGISTRY"
  echo "DARWIN_REGISTRY_FROM_PODS=$NODE_REGISTRY_POD"
}

# ----------------------------------------------------------------------------------------- containerd
# The bridge exists before the kubelet starts, with the node's address on it, so the kubelet, CoreDNS and
# the apiserver's connections to the kubelet have an address before the first pod; the CNI bridge plugin
# finds it and adds the pods' veths to it. Forwarding is on while the node runs (the value it had is
# restored when the node stops).
node_network_up() {
  mkdir -p "$NODE_DATA"
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
    ip addr add "$NODE_IP/${NODE_POD_CIDR#*/}" dev "$NODE_BRIDGE"
  fi
  ip link set "$NODE_BRIDGE" up
  [[ -f $NODE_DATA/ip_forward.saved ]] || cat /proc/sys/net/ipv4/ip_forward >"$NODE_DATA/ip_forward.saved"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  # Service traffic between pods on one bridge must pass iptables (kube-proxy's DNAT).
  echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  node_loopback_forward
}

# The registry and the git daemon (hack/components/git-daemon.sh) listen on loopback only; pods (BuildKit
# cloning a repository and pushing the built image) reach them at the node's address: DNAT from the bridge
# (route_localnet lets the kernel route those packets to 127.0.0.1; the kubelet's KUBE-FIREWALL passes DNATed
# connections) and from this machine (containerd pulling an image named with that address). node_cleanup
# removes the rules.
node_loopback_forward() {
  echo 1 >"/proc/sys/net/ipv4/conf/$NODE_BRIDGE/route_localnet"
  local port rule
  for port in "$NODE_REGISTRY_PORT" "$GIT_DAEMON_PORT"; do
    rule=(-d "$NODE_IP/32" -p tcp --dport "$port" -m comment --comment "$NODE_FORWARD_RULE_COMMENT"
      -j DNAT --to-destination "127.0.0.1:$port")
    iptables -t nat -C PREROUTING -i "$NODE_BRIDGE" "${rule[@]}" 2>/dev/null ||
      iptables -t nat -A PREROUTING -i "$NODE_BRIDGE" "${rule[@]}"
    iptables -t nat -C OUTPUT "${rule[@]}" 2>/dev/null || iptables -t nat -A OUTPUT "${rule[@]}"
  done
}

containerd_start() {
  node_network_up
  local dir=$NODE_DATA/containerd
  mkdir -p "$dir/root" "$dir/state" "$NODE_DATA/cni/net.d" "$NODE_DATA/cni/networks"
  # The local registry speaks plain HTTP, on loopback and on the node's address.
  local r
  for r in "$NODE_REGISTRY" "$NODE_REGISTRY_POD"; do
    mkdir -p "$dir/certs.d/$r"
    cat >"$dir/certs.d/$r/hosts.toml" <<TOML
server = "http://$r"

[host."http://$r"]
  capabilities = ["pull", "resolve", "push"]
TOML
  done
  # One bridge network; host-local hands out addresses (its state lives in the data dir); portmap for
  # hostPort; hairpin so a pod reaches itself through a Service. containerd sets up each pod's loopback
  # with the loopback plugin from the same directory.
  cat >"$NODE_DATA/cni/net.d/10-darwin.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "darwin",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DATA/cni/networks",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR", "rangeStart": "10.88.0.10", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  # cgroupfs (PID 1 is not systemd); runc built here; the pause image built here, never pulled. The
  # machines withhold CAP_SYS_RESOURCE, so no process may lower its OOM score below this one's:
  # restrict_oom_score_adj raises the scores the kubelet asks for (-998 for sandboxes) to containerd's own.
  cat >"$dir/config.toml" <<TOML
version = 3
root = "$dir/root"
state = "$dir/state"

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "$NODE_STREAM_PORT"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$NODE_PAUSE_IMAGE"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "$dir/certs.d"

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$NODE_CNI_BIN"]
    conf_dir = "$NODE_DATA/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$NODE_RUNC"
        SystemdCgroup = false
TOML
  # The shim is found on PATH.
  PATH="$CONTAINERD_DIR/bin:$PATH" tb_spawn containerd "$CONTAINERD_DIR/bin/containerd" --config "$dir/config.toml"
  tb_wait 60 containerd node_ctr version
  if ! node_ctr images ls -q | grep -xF "$NODE_PAUSE_IMAGE" >/dev/null; then
    node_ctr images import --snapshotter overlayfs \
      "$NODE_PAUSE_DIR/pause.oci.tar" >&2 || tb_die "importing the pause image into containerd failed"
  fi
}

containerd_ready() {
  node_crictl info >/dev/null 2>&1 && node_ctr images ls -q | grep -xF "$NODE_PAUSE_IMAGE" >/dev/null
}

containerd_timeout() { echo 60; }

containerd_env() {
  echo "DARWIN_CONTAINERD_SOCK=$CONTAINERD_SOCK"
  echo "DARWIN_CRICTL=$CRICTL_DIR/bin/crictl"
}

# Stopping containerd stops the node: the kubelet first (it would start the pods again), then every pod
# through CRI (so the CNI plugins release addresses, veths and port mappings), then containerd, and last
# whatever is left: mounts, the bridge, the node's iptables chains and cgroups, and the Node object.
containerd_stop() {
  if [[ $1 == kill ]]; then tb_kill9 containerd; return 0; fi
  tb_stop kubelet
  if tb_running containerd; then
    local pods
    pods=$(node_crictl pods -q 2>/dev/null || true)
    if [[ -n $pods ]]; then
      # shellcheck disable=SC2086 # one pod id a word
      node_crictl stopp $pods >/dev/null 2>&1 || true
      # shellcheck disable=SC2086
      node_crictl rmp --force $pods >/dev/null 2>&1 || true
    fi
  fi
  tb_stop containerd
  node_cleanup
}

# node_cleanup: remove what a stopped node may leave behind. Everything here is the node's own: shims of
# this containerd build, mounts under the node's directories, veths on its bridge, iptables chains that
# only the kubelet, kube-proxy and the CNI plugins create (KUBE-*, CNI-*).
node_cleanup() (
  # best effort throughout: each step runs whether or not the one before found anything to remove
  set +e +o pipefail
  local pid exe m table chain link cmd rule
  # shims outlive containerd by design (they are in their own process groups)
  for pid in $(pgrep -f "^$CONTAINERD_DIR/bin/containerd-shim-runc-v2 " 2>/dev/null || true); do
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    [[ $exe == "$CONTAINERD_DIR/bin/containerd-shim-runc-v2" ]] && kill -KILL "$pid" 2>/dev/null || true
  done
  # deepest mounts first
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
    awk -v a="$NODE_DATA/" -v b="/run/containerd/" -v c="/run/netns/cni-" \
      'index($5, a) == 1 || index($5, b) == 1 || index($5, c) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  rm -f /run/netns/cni-* 2>/dev/null || true
  for link in $(ip -o link show master "$NODE_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$link" 2>/dev/null || true
  done
  ip link delete "$NODE_BRIDGE" 2>/dev/null || true
  # the forwarding rules (node_loopback_forward), matched by their comment
  for chain in PREROUTING OUTPUT; do
    iptables-save -t nat 2>/dev/null | grep -F -- "-A $chain " | grep -F -- "\"$NODE_FORWARD_RULE_COMMENT\"" |
      sed 's/^-A /-D /' | while read -r rule; do eval "iptables -t nat $rule" 2>/dev/null || true; done
  done
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      # rules that jump to the node's chains, then the chains
      "$cmd-save" -t "$table" 2>/dev/null | grep -E '^-A .* -j (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-' |
        sed 's/^-A /-D /' | while read -r rule; do eval "$cmd -t $table $rule" 2>/dev/null || true; done
      for chain in $("$cmd-save" -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p'); do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$cmd-save" -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p'); do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  if [[ -f $NODE_DATA/ip_forward.saved ]]; then
    cat "$NODE_DATA/ip_forward.saved" >/proc/sys/net/ipv4/ip_forward
    rm -f "$NODE_DATA/ip_forward.saved"
  fi
  # the kubelet's cgroups (cgroupfs driver: /kubepods in every v1 hierarchy and in the unified one)
  for m in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [[ -d $m ]] && find "$m" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$NODE_DATA/kubelet/pods" 2>/dev/null || true
  # the next apiserver start goes back to the cluster tier's flags
  rm -f "$KUBE_DATA/real-node"
  if kube_apiserver_ready 2>/dev/null; then
    node_kubectl delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1
  fi
  exit 0
)

# -------------------------------------------------------------------------------------------- kubelet
kubelet_start() {
  tb_running containerd || tb_die "the kubelet needs containerd (hack/testbed up containerd)"
  kube_controller_manager_ready || tb_die "the node needs the controller-manager (hack/testbed up cluster)"
  # Real pods get service-account tokens and reach the apiserver through the kubernetes Service (KubeRay's
  # autoscaler calls it): the apiserver restarts once with the node's flags (kube_apiserver_args); the
  # running controller-manager makes ServiceAccount admission safe.
  mkdir -p "$KUBE_DATA"
  touch "$KUBE_DATA/real-node"
  kube_apiserver_refresh
  kube_client_cert "node-$NODE_NAME" "/O=system:nodes/CN=system:node:$NODE_NAME"
  kube_cert "kubelet-$NODE_NAME" "/CN=$NODE_NAME" "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME" \
    "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment"
  local dir=$NODE_DATA/kubelet
  mkdir -p "$dir" "$NODE_DATA/pod-logs"
  kube_write_kubeconfig "$NODE_DATA/kubelet.kubeconfig" "system:node:$NODE_NAME" "node-$NODE_NAME"
  # failCgroupV1: these machines run cgroup v1 (hybrid). Eviction and image GC are relaxed: the node shares
  # a developer's disk and memory, and the project's images must not be collected between runs. CPU limits
  # are not enforced as CFS quotas: on two busy cores a Ray head held to one core misses its own startup
  # deadlines (requests still decide what fits on the node).
  cat >"$NODE_DATA/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $NODE_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $NODE_KUBELET_HEALTHZ_PORT
tlsCertFile: $KUBE_DATA/kubelet-$NODE_NAME.crt
tlsPrivateKeyFile: $KUBE_DATA/kubelet-$NODE_NAME.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $KUBE_DATA/ca.crt
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
clusterDomain: cluster.local
clusterDNS:
- $NODE_IP
podLogsDir: $NODE_DATA/pod-logs
registerWithTaints:
- key: $NODE_KEY
  value: real
  effect: NoSchedule
maxPods: 50
cpuCFSQuota: false
serializeImagePulls: false
runtimeRequestTimeout: 10m
evictionHard:
  memory.available: 200Mi
  nodefs.available: 2%
  imagefs.available: 2%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
  tb_spawn kubelet "$KUBE_BIN/kubelet" \
    --config="$NODE_DATA/kubelet.yaml" \
    --kubeconfig="$NODE_DATA/kubelet.kubeconfig" \
    --root-dir="$dir" \
    --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP" \
    --node-labels="$NODE_KEY=real,darwin.dreamhorizon.org/capacity=on-demand"
}

# Ready also means the apiserver runs with the node's flags (it may have been restarted with others since):
# otherwise `up` runs kubelet_start again, which restarts the apiserver and leaves the running kubelet alone.
kubelet_ready() {
  [[ -e $KUBE_DATA/real-node ]] && kube_apiserver_current || return 1
  [[ $(curl -fsS --max-time 3 "http://127.0.0.1:$NODE_KUBELET_HEALTHZ_PORT/healthz") == ok ]] || return 1
  [[ $(node_kubectl get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

kubelet_timeout() { echo 180; }

kubelet_env() {
  echo "DARWIN_NODE=$NODE_NAME"
  echo "DARWIN_NODE_IP=$NODE_IP"
  echo "DARWIN_NODE_POD_CIDR=$NODE_POD_CIDR"
}

# ----------------------------------------------------------------------------------------- kube-proxy
kube_proxy_start() {
  kube_apiserver_ready || tb_die "kube-proxy needs the apiserver (hack/testbed up control)"
  kube_client_cert kube-proxy "/CN=system:kube-proxy"
  kube_write_kubeconfig "$NODE_DATA/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
  # iptables mode. NodePorts only on the node's address (not on this machine's network), and not on
  # 127.0.0.1, which would need route_localnet. conntrack sysctls are left as they are.
  cat >"$NODE_DATA/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: $NODE_DATA/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$NODE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$NODE_PROXY_METRICS_PORT
clusterCIDR: $NODE_POD_CIDR
nodePortAddresses:
- $NODE_IP/32
iptables:
  localhostNodePorts: false
oomScoreAdj: 0
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
YAML
  tb_spawn kube_proxy "$KUBE_BIN/kube-proxy" --config="$NODE_DATA/kube-proxy.yaml"
}

kube_proxy_ready() { curl -fsS --max-time 3 "http://127.0.0.1:$NODE_PROXY_HEALTHZ_PORT/healthz" >/dev/null; }

kube_proxy_timeout() { echo 60; }

kube_proxy_env() { :; }

kube_proxy_stop() {
  if [[ $1 == kill ]]; then tb_kill9 kube_proxy; return 0; fi
  tb_stop kube_proxy
  # its iptables rules outlive it; --cleanup removes them and exits
  "$KUBE_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
}

# -------------------------------------------------------------------------------------------- CoreDNS
# CoreDNS runs next to the kubelet (not as a pod) on the node's address, port 53, which is the kubelet's
# clusterDNS: pods resolve <service>.<namespace>.svc.cluster.local and forward the rest to this machine's
# resolver. It reads Services and EndpointSlices as the user system:coredns (RBAC below).

# coredns_corefile: the node's Corefile. Its directives are the plugins the build compiles in.
coredns_corefile() {
  cat <<COREFILE
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:$NODE_COREDNS_HEALTH_PORT
    ready 127.0.0.1:$NODE_COREDNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $NODE_DATA/coredns.kubeconfig darwin-testbed
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    forward . /etc/resolv.conf
    cache 5
    loop
}
COREFILE
}

# coredns_plugins: the Corefile's directives (the first word of each line of its server block)
coredns_plugins() { coredns_corefile | awk '/^    [a-z]/ {print $1}'; }

# The build is keyed by the plugin list too: a directive added to the Corefile builds a new binary.
COREDNS_DIR=$DARWIN_CACHE/coredns-$COREDNS_VERSION-$(coredns_plugins | sha256sum | cut -c1-8)

# CoreDNS as its documentation builds it with a chosen set of plugins: a main package that imports coremain
# and those plugins: 583 packages to compile and 89 MB of modules, where the module's own main (every plugin,
# with the AWS, Azure and Google SDKs) has 1170 and 258 MB.
coredns_build() {
  tb_go_have "$COREDNS_DIR/bin" coredns && return 0
  local p
  mkdir -p "$COREDNS_DIR/src/coredns"
  {
    printf 'package main\n\nimport (\n\t"github.com/coredns/coredns/coremain"\n'
    for p in $(coredns_plugins); do printf '\t_ "github.com/coredns/coredns/plugin/%s"\n' "$p"; done
    printf ')\n\nfunc main() { coremain.Run() }\n'
  } >"$COREDNS_DIR/src/coredns/main.go"
  tb_go_wrapper_build "$COREDNS_DIR" "-s -w" "go 1.26

require github.com/coredns/coredns $COREDNS_VERSION" ./coredns
}

coredns_start() {
  kube_apiserver_ready || tb_die "CoreDNS needs the apiserver (hack/testbed up control)"
  [[ $(ip -o addr show dev "$NODE_BRIDGE" 2>/dev/null) == *" $NODE_IP/"* ]] ||
    tb_die "CoreDNS needs the node's bridge (hack/testbed up containerd)"
  kube_client_cert coredns "/CN=system:coredns"
  kube_write_kubeconfig "$NODE_DATA/coredns.kubeconfig" system:coredns coredns
  node_kubectl apply --server-side --force-conflicts --field-manager=darwin-testbed -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:coredns
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:coredns
YAML
  coredns_corefile >"$NODE_DATA/Corefile"
  tb_spawn coredns "$COREDNS_DIR/bin/coredns" -conf "$NODE_DATA/Corefile"
}

coredns_ready() { curl -fsS --max-time 3 "http://127.0.0.1:$NODE_COREDNS_READY_PORT/ready" >/dev/null; }

coredns_timeout() { echo 60; }

coredns_env() { echo "DARWIN_NODE_DNS=$NODE_IP"; }
