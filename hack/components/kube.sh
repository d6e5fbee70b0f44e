# Kubernetes control plane from k8s.io/kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler,
# plus kubectl for tests and the README. Sourced by hack/testbed.
source "$HACK_DIR/kube/gobuild.sh"

KUBE_VERSION=${DARWIN_KUBE_VERSION:-v1.36.3}
KUBE_DIR=$DARWIN_CACHE/kubernetes-$KUBE_VERSION
KUBE_BIN=$KUBE_DIR/bin
KUBE_APISERVER_PORT=${DARWIN_KUBE_APISERVER_PORT:-26443}
KUBE_CONTROLLER_MANAGER_PORT=${DARWIN_KUBE_CONTROLLER_MANAGER_PORT:-26444}
KUBE_SCHEDULER_PORT=${DARWIN_KUBE_SCHEDULER_PORT:-26445}
KUBE_DATA=$DARWIN_RUN/data/kube
KUBE_SERVER=https://127.0.0.1:$KUBE_APISERVER_PORT
KUBECONFIG_FILE=$DARWIN_RUN/kubeconfig

# ---------------------------------------------------------------------------------------------- build
# kube_build [binary...]: build the given binaries of k8s.io/kubernetes/cmd (default: the control plane and
# kubectl; the node tier asks for kubelet and kube-proxy) from one wrapper module, into one bin directory.
# Only what is missing is built, so a node build next to a cached control plane compiles only the node's
# packages (Go's build cache keeps the shared ones).
kube_build() {
  local want=("$@") b pkgs=()
  ((${#want[@]})) || want=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  tb_go_have "$KUBE_BIN" "${want[@]}" && return 0
  for b in "${want[@]}"; do [[ -x $KUBE_BIN/$b ]] || pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  local mod staging ver=${KUBE_VERSION#v} major minor stamp ldflags body
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and maps them to ./staging with replaces that
  # only apply inside its own repository; a wrapper must map each to its published v0.<minor>.<patch>.
  mod=$(cd "$DARWIN_CACHE" && go list -m -f '{{.GoMod}}' "k8s.io/kubernetes@$KUBE_VERSION") ||
    tb_die "cannot get k8s.io/kubernetes@$KUBE_VERSION from the Go module proxy"
  [[ -f $mod ]] || tb_die "go mod download k8s.io/kubernetes@$KUBE_VERSION gave no go.mod"
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$mod")
  [[ -n $staging ]] || tb_die "no staging replaces found in $mod"
  major=${ver%%.*}
  minor=${ver#*.}
  minor=${minor%%.*}
  body="go $(sed -n 's/^go //p' "$mod")

require k8s.io/kubernetes $KUBE_VERSION

replace ("
  for m in $staging; do body+=$'\n'"	$m => $m v0.$minor.${ver##*.}"; done
  body+=$'\n)'
  # Without these stamps /version says v0.0.0 and Helm's kubeVersion checks fail.
  ldflags="-s -w"
  for stamp in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $stamp.gitVersion=$KUBE_VERSION -X $stamp.gitMajor=$major -X $stamp.gitMinor=$minor"
    # The module zip carries no commit id; an empty one beats the "$Format:%H$" placeholder.
    ldflags+=" -X $stamp.gitCommit= -X $stamp.gitTreeState=clean -X $stamp.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  tb_go_wrapper_build "$KUBE_DIR" "$ldflags" "$body" "${pkgs[@]}"
}
kube_apiserver_build() { kube_build; }
kube_controller_manager_build() { kube_build; }
kube_scheduler_build() { kube_build; }

# ------------------------------------------------------------------------------------- certs and tokens
# One CA signs the serving certificate (so kubeconfigs verify the server with certificate-authority-data
# instead of skipping TLS verification) and the controller-manager's CSR signer; a second one, as in kubeadm
# clusters, signs the front-proxy client the apiserver presents to aggregated APIs (and without which the
# controller-manager and scheduler log errors about the missing request-header CA). Kept in the data dir, so
# restarting the apiserver keeps the same CA and tokens; `down --purge` starts over. Each file is made only
# when missing.
kube_pki() {
  mkdir -p "$KUBE_DATA"
  (
    cd "$KUBE_DATA" || exit 1
    umask 077
    local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    [[ -s ca.crt ]] || openssl req -x509 "${key[@]}" -days 3650 -keyout ca.key -out ca.crt \
      -subj "/CN=darwin-testbed-ca" 2>/dev/null
    [[ -s front-proxy-ca.crt ]] || openssl req -x509 "${key[@]}" -days 3650 -keyout front-proxy-ca.key \
      -out front-proxy-ca.crt -subj "/CN=darwin-testbed-front-proxy-ca" 2>/dev/null
    # The SANs cover loopback and the in-cluster names of the kubernetes Service (first IP of the range).
    if [[ ! -s apiserver.crt ]]; then
      openssl req "${key[@]}" -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
      printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
        "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >apiserver.ext
      openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    fi
    if [[ ! -s front-proxy-client.crt ]]; then
      openssl req "${key[@]}" -keyout front-proxy-client.key -out front-proxy-client.csr \
        -subj "/CN=front-proxy-client" 2>/dev/null
      printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >front-proxy-client.ext
      openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key \
        -CAcreateserial -days 3650 -extfile front-proxy-client.ext -out front-proxy-client.crt 2>/dev/null
    fi
    # Service-account tokens are signed with an RSA key (RS256, what every client library verifies).
    if [[ ! -s sa.pub ]]; then
      openssl genrsa -out sa.key 2048 2>/dev/null
      openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    fi
    # Static bearer tokens: the admin (system:masters) for tests, kubectl, KWOK and KubeRay; the
    # controller-manager and scheduler get their own users, which RBAC's bootstrap roles already cover.
    if [[ ! -s tokens.csv ]]; then
      {
        echo "$(openssl rand -hex 24),darwin-admin,darwin-admin,\"system:masters\""
        echo "$(openssl rand -hex 24),system:kube-controller-manager,system:kube-controller-manager"
        echo "$(openssl rand -hex 24),system:kube-scheduler,system:kube-scheduler"
      } >tokens.csv.tmp
      mv tokens.csv.tmp tokens.csv
    fi
  )
  # The apiserver's identity towards kubelets (logs, exec, port-forward); system:masters passes the
  # kubelet's webhook authorization.
  kube_client_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
}

# kube_cert <name> <subject> <extension-line...>: <name>.crt/.key in the data dir, signed by the testbed CA,
# made once (used for the identities of the apiserver towards kubelets and of the node's components).
kube_cert() {
  local name=$1 subject=$2
  shift 2
  [[ -s $KUBE_DATA/$name.crt ]] && return 0
  (
    cd "$KUBE_DATA" || exit 1
    umask 077
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" -out "$name.csr" \
      -subj "$subject" 2>/dev/null
    printf '%s\n' "$@" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$name.ext" \
      -out "$name.crt.tmp" 2>/dev/null
    mv "$name.crt.tmp" "$name.crt"
  )
}

# kube_client_cert <name> <subject>: a client certificate (CN = user, O = group).
kube_client_cert() {
  kube_cert "$1" "$2" "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment"
}

# kube_token <user>: the static token of a user in tokens.csv
kube_token() { awk -F, -v u="$1" '$2 == u {print $1}' "$KUBE_DATA/tokens.csv"; }

# kube_write_kubeconfig <file> <user> [cert-name]: a kubeconfig for the testbed apiserver as that user, with
# its static token, or with the client certificate <cert-name>.crt/.key of the data dir when given.
kube_write_kubeconfig() {
  local file=$1 user=$2 cert=${3:-} tmp credentials
  if [[ -n $cert ]]; then
    credentials="client-certificate-data: $(base64 -w0 <"$KUBE_DATA/$cert.crt")
    client-key-data: $(base64 -w0 <"$KUBE_DATA/$cert.key")"
  else
    credentials="token: $(kube_token "$user")"
  fi
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: darwin-testbed
  cluster:
    server: $KUBE_SERVER
    certificate-authority-data: $(base64 -w0 <"$KUBE_DATA/ca.crt")
users:
- name: $user
  user:
    $credentials
contexts:
- name: darwin-testbed
  context:
    cluster: darwin-testbed
    user: $user
current-context: darwin-testbed
KUBECONFIG
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}

# ------------------------------------------------------------------------------------------ apiserver
# kube_apiserver_args: the apiserver's command line, one word a line (kube_apiserver_refresh compares it with
# the running one).
kube_apiserver_args() {
  local admission=(--disable-admission-plugins=ServiceAccount) bind=127.0.0.1 advertise=127.0.0.1 endpoints=none
  # ServiceAccount admission rejects every pod whose service account does not exist yet, and only the
  # controller-manager creates the "default" one in new namespaces. The apiserver is shared by the
  # control tier (no controller-manager) and the cluster tier, and keeps running when the tier grows, so by
  # default the plugin is off; KWOK pods run no containers, so there is no token to mount anyway.
  # Real pods do talk to the apiserver (KubeRay's autoscaler, the operator as a pod), so the node tier, which
  # runs on the cluster tier, restarts it with the marker file $KUBE_DATA/real-node: ServiceAccount admission
  # on, and reachable from pods. Without the node, the `kubernetes` Service has no endpoints (a loopback
  # address is no use to a pod), so in-cluster clients got "connection refused" at 10.96.0.1. With it, the
  # apiserver keeps the Service's endpoints at the node's bridge address (lease reconciler) and listens on
  # every address, the bridge's included, which exists only while the node runs. DARWIN_KUBE_SA_ADMISSION=1
  # turns on the admission plugin alone.
  if [[ -e $KUBE_DATA/real-node ]]; then
    admission=()
    bind=0.0.0.0
    advertise=$NODE_IP
    endpoints=lease
  elif [[ ${DARWIN_KUBE_SA_ADMISSION:-0} == 1 ]]; then
    admission=()
  fi
  # Kubelets are dialled at their InternalIP (KWOK's nodes and the real node have no resolvable hostname),
  # with a client certificate, and their serving certificates are checked against the testbed CA.
  # PodNodeSelector and PodTolerationRestriction let a namespace send all its pods to the real node (its
  # annotations add the node selector and the toleration), with no change to the workloads.
  printf '%s\n' "$KUBE_BIN/kube-apiserver" \
    --bind-address="$bind" \
    --advertise-address="$advertise" \
    --secure-port="$KUBE_APISERVER_PORT" \
    --etcd-servers="$ETCD_URL" \
    --tls-cert-file="$KUBE_DATA/apiserver.crt" \
    --tls-private-key-file="$KUBE_DATA/apiserver.key" \
    --client-ca-file="$KUBE_DATA/ca.crt" \
    --requestheader-client-ca-file="$KUBE_DATA/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$KUBE_DATA/front-proxy-client.crt" \
    --proxy-client-key-file="$KUBE_DATA/front-proxy-client.key" \
    --kubelet-client-certificate="$KUBE_DATA/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$KUBE_DATA/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$KUBE_DATA/ca.crt" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --token-auth-file="$KUBE_DATA/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$KUBE_DATA/sa.pub" \
    --service-account-signing-key-file="$KUBE_DATA/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --endpoint-reconciler-type="$endpoints" \
    --allow-privileged=true \
    --profiling=false \
    --enable-admission-plugins=NodeRestriction,PodNodeSelector,PodTolerationRestriction \
    "${admission[@]}"
}

kube_apiserver_start() {
  tb_running etcd || etcd_ready || tb_die "kube-apiserver needs etcd (hack/testbed up etcd)"
  kube_pki
  kube_write_kubeconfig "$KUBECONFIG_FILE" darwin-admin
  local args
  mapfile -t args < <(kube_apiserver_args)
  tb_spawn kube_apiserver "${args[@]}"
}

# kube_apiserver_current: true when the running apiserver has the flags kube_apiserver_args gives now
kube_apiserver_current() {
  local pid
  read -r pid _ <"$DARWIN_RUN/pids/kube_apiserver.pid" 2>/dev/null || return 1
  [[ "$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null)" == "$(kube_apiserver_args)" ]]
}

# kube_apiserver_refresh: restart the running apiserver when its flags differ from kube_apiserver_args (a
# tier that needs other flags than the one that started it), and wait until it is ready again.
kube_apiserver_refresh() {
  kube_pki
  [[ -f $DARWIN_RUN/pids/kube_apiserver.pid ]] || return 0
  kube_apiserver_current && return 0
  tb_log "kube-apiserver: restarting with the flags this tier needs"
  tb_stop kube_apiserver 10
  kube_apiserver_start
  tb_wait 120 kube_apiserver kube_apiserver_ready
}

# /readyz covers etcd, the RBAC bootstrap roles and every post-start hook: once it says ok, clients can work.
kube_apiserver_ready() {
  [[ -s $KUBE_DATA/tokens.csv ]] || return 1
  [[ $(curl -fsS --max-time 3 --cacert "$KUBE_DATA/ca.crt" \
    -H "Authorization: Bearer $(kube_token darwin-admin)" "$KUBE_SERVER/readyz") == ok ]]
}

kube_apiserver_timeout() { echo 120; }

kube_apiserver_env() {
  echo "KUBECONFIG=$KUBECONFIG_FILE"
  echo "DARWIN_KUBE_SERVER=$KUBE_SERVER"
  echo "DARWIN_KUBE_VERSION=$KUBE_VERSION"
  echo "DARWIN_KUBECTL=$KUBE_BIN/kubectl"
  echo "DARWIN_KUBE_CA_FILE=$KUBE_DATA/ca.crt"
  echo "DARWIN_KUBE_TOKEN=$(kube_token darwin-admin)"
}

# ------------------------------------------------------------------- controller-manager and scheduler
# Both serve their health endpoints with the apiserver's certificate (it names 127.0.0.1), so readiness
# checks verify TLS too. /healthz is always allowed without credentials.
kube_component_ready() {
  [[ $(curl -fsS --max-time 3 --cacert "$KUBE_DATA/ca.crt" "https://127.0.0.1:$1/healthz") == ok ]]
}

kube_controller_manager_start() {
  kube_apiserver_ready || tb_die "kube-controller-manager needs the apiserver (hack/testbed up control)"
  local kc=$KUBE_DATA/controller-manager.kubeconfig
  kube_write_kubeconfig "$kc" system:kube-controller-manager
  # Per-controller service-account credentials, like kubeadm clusters: each controller gets only its RBAC.
  # Higher client QPS than the default 20 so tests that create many objects do not wait on throttling.
  tb_spawn kube_controller_manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$kc" \
    --authentication-kubeconfig="$kc" \
    --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 \
    --secure-port="$KUBE_CONTROLLER_MANAGER_PORT" \
    --tls-cert-file="$KUBE_DATA/apiserver.crt" \
    --tls-private-key-file="$KUBE_DATA/apiserver.key" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$KUBE_DATA/sa.key" \
    --root-ca-file="$KUBE_DATA/ca.crt" \
    --cluster-signing-cert-file="$KUBE_DATA/ca.crt" \
    --cluster-signing-key-file="$KUBE_DATA/ca.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --kube-api-qps=100 \
    --kube-api-burst=200 \
    --profiling=false
}

kube_controller_manager_ready() { kube_component_ready "$KUBE_CONTROLLER_MANAGER_PORT"; }

kube_controller_manager_env() {
  echo "DARWIN_KUBE_CONTROLLER_MANAGER=https://127.0.0.1:$KUBE_CONTROLLER_MANAGER_PORT"
}

kube_scheduler_start() {
  kube_apiserver_ready || tb_die "kube-scheduler needs the apiserver (hack/testbed up control)"
  local kc=$KUBE_DATA/scheduler.kubeconfig
  kube_write_kubeconfig "$kc" system:kube-scheduler
  tb_spawn kube_scheduler "$KUBE_BIN/kube-scheduler" \
    --kubeconfig="$kc" \
    --authentication-kubeconfig="$kc" \
    --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 \
    --secure-port="$KUBE_SCHEDULER_PORT" \
    --tls-cert-file="$KUBE_DATA/apiserver.crt" \
    --tls-private-key-file="$KUBE_DATA/apiserver.key" \
    --leader-elect=false \
    --profiling=false
}

kube_scheduler_ready() { kube_component_ready "$KUBE_SCHEDULER_PORT"; }

kube_scheduler_env() {
  echo "DARWIN_KUBE_SCHEDULER=https://127.0.0.1:$KUBE_SCHEDULER_PORT"
}
