# Argo CD's application controller and repo server (tier `gitops`), built from github.com/argoproj/argo-cd/v3
# and run as local processes against the testbed apiserver, with Redis (redis.sh) as their cache and a git
# daemon (git-daemon.sh) as the repository they sync from. No API server, UI or Dex: tests create
# Applications with kubectl and read their status.
# Sourced by hack/testbed.

ARGOCD_VERSION=${DARWIN_ARGOCD_VERSION:-v3.6.1}
ARGOCD_DIR=$DARWIN_CACHE/argocd-$ARGOCD_VERSION
ARGOCD_NAMESPACE=argocd
ARGOCD_CONTROLLER_METRICS_PORT=${DARWIN_ARGOCD_CONTROLLER_METRICS_PORT:-28082}
ARGOCD_REPO_SERVER_PORT=${DARWIN_ARGOCD_REPO_SERVER_PORT:-28083}
ARGOCD_REPO_SERVER_METRICS_PORT=${DARWIN_ARGOCD_REPO_SERVER_METRICS_PORT:-28084}
# Argo CD 3.6 needs Go 1.27: the go command fetches that toolchain from the Go module proxy like a module.
ARGOCD_GOTOOLCHAIN=go1.27.3

# argocd_build: one multi-call binary (cmd/main.go picks the program by the name it runs under), linked as
# argocd-application-controller and argocd-repo-server, plus the CRDs from the module's manifests.
#   The module's go.mod replaces its nested module github.com/argoproj/argo-cd/gitops-engine/v3 with
#   ./gitops-engine, which the module zip leaves out (a nested module is never part of its parent's zip) and
#   which a dependent module would ignore anyway. So the build runs inside the extracted module, with the
#   nested module, downloaded on its own at the same version, placed where the replace points.
argocd_build() {
  local bin=$ARGOCD_DIR/bin
  [[ -x $bin/argocd && -L $bin/argocd-application-controller && -L $bin/argocd-repo-server &&
    -x $bin/git-verify-wrapper.sh && -f $ARGOCD_DIR/crds/application-crd.yaml &&
    -f $ARGOCD_DIR/crds/appproject-crd.yaml ]] && return 0
  command -v go >/dev/null || tb_die "go is not on PATH"
  local log=$ARGOCD_DIR/build.log t0=$SECONDS m=github.com/argoproj/argo-cd src=$ARGOCD_DIR/src zip engine
  mkdir -p "$ARGOCD_DIR"
  tb_log "building argocd-$ARGOCD_VERSION from the Go module proxy (log $log)"
  local -x GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN GOFLAGS=-mod=mod
  zip=$(cd "$DARWIN_CACHE" && go mod download -json "$m/v3@$ARGOCD_VERSION" | sed -n 's/^\t"Zip": "\(.*\)",$/\1/p') &&
    engine=$(cd "$DARWIN_CACHE" && go mod download -json "$m/gitops-engine/v3@$ARGOCD_VERSION" |
      sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') && [[ -f $zip && -d $engine ]] ||
    tb_die "cannot download $m/v3 and $m/gitops-engine/v3 at $ARGOCD_VERSION from the Go module proxy"
  rm -rf "$src" "$ARGOCD_DIR/unpack"
  mkdir -p "$ARGOCD_DIR/unpack"
  unzip -q "$zip" -d "$ARGOCD_DIR/unpack"
  mv "$ARGOCD_DIR/unpack/$m/v3@$ARGOCD_VERSION" "$src"
  rm -rf "$ARGOCD_DIR/unpack"
  grep -q "^replace $m/gitops-engine/v3 => ./gitops-engine$" "$src/go.mod" ||
    tb_die "$m/v3@$ARGOCD_VERSION no longer replaces gitops-engine with ./gitops-engine; adapt argocd_build"
  cp -r "$engine" "$src/gitops-engine"
  chmod -R u+w "$src"
  # ui/embed.go embeds ui/dist/app, which the module ships as a placeholder (the UI is built by npm in
  # Argo CD's release); the API server that serves it is not run here.
  [[ -d $src/ui/dist/app ]] || { mkdir -p "$src/ui/dist/app/assets/images/resources" && : >"$src/ui/dist/app/gitkeep"; }
  local ldflags="-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.gitTag=$ARGOCD_VERSION"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  mkdir -p "$bin"
  # nice: the first build compiles about 2,300 packages and shares the machine with running tests.
  if ! (cd "$src" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$bin/argocd" ./cmd) \
    >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    tb_die "building argocd-$ARGOCD_VERSION failed; see $log"
  fi
  ln -sf argocd "$bin/argocd-application-controller"
  ln -sf argocd "$bin/argocd-repo-server"
  # The repo server runs this script of Argo CD's image (git verify-commit) for every revision it renders,
  # signature checks on or not, and fails the render when it is not on PATH.
  install -m 755 "$src/hack/git-verify-wrapper.sh" "$bin/"
  mkdir -p "$ARGOCD_DIR/crds"
  cp "$src/manifests/crds/application-crd.yaml" "$src/manifests/crds/appproject-crd.yaml" "$ARGOCD_DIR/crds/"
  # the extracted module (250 MB) is not needed once built: a rebuild extracts it again
  rm -rf "$src"
  echo $((SECONDS - t0)) >"$ARGOCD_DIR/build-seconds"
  tb_log "built argocd-$ARGOCD_VERSION in $((SECONDS - t0))s"
}

# argocd_setup: what Argo CD's install manifests would put in the cluster for these two programs: the CRDs,
# the namespace, argocd-cm with Darwin's health checks (the file users are told to merge, from this
# checkout), argocd-secret and argocd-rbac-cm (the settings manager reads both), and the default project.
argocd_setup() {
  local kubectl=("$KUBE_BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE")
  "${kubectl[@]}" apply --server-side --force-conflicts --field-manager=darwin-testbed -f "$ARGOCD_DIR/crds/" >&2
  # kubectl wait fails at once on a CRD whose status has no conditions yet: poll for Established instead
  local crd deadline=$((SECONDS + 60))
  for crd in applications.argoproj.io appprojects.argoproj.io; do
    until [[ $("${kubectl[@]}" get crd "$crd" \
      -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>/dev/null) == True ]]; do
      ((SECONDS < deadline)) || tb_die "the CRD $crd is not Established after 60s"
      sleep 0.5
    done
  done
  "${kubectl[@]}" create namespace "$ARGOCD_NAMESPACE" --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >&2
  "${kubectl[@]}" apply --server-side --force-conflicts --field-manager=darwin-testbed \
    -f "$REPO_DIR/charts/darwin/argocd/argocd-cm.yaml" >&2
  # server.secretkey signs the API server's tokens, which nothing here issues; the settings manager wants one.
  "${kubectl[@]}" -n "$ARGOCD_NAMESPACE" get secret argocd-secret >/dev/null 2>&1 ||
    "${kubectl[@]}" -n "$ARGOCD_NAMESPACE" create secret generic argocd-secret \
      --from-literal=server.secretkey="$(openssl rand -hex 32)" >&2
  # Argo CD reads only the settings labelled as its own (the label its install manifests carry; the chart's
  # argocd-cm.yaml is data to merge into an existing argocd-cm, so it has none).
  "${kubectl[@]}" -n "$ARGOCD_NAMESPACE" label --overwrite configmap/argocd-cm secret/argocd-secret \
    app.kubernetes.io/part-of=argocd >&2
  "${kubectl[@]}" apply --server-side --field-manager=darwin-testbed -f - >&2 <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/part-of: argocd}
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: $ARGOCD_NAMESPACE
spec:
  sourceRepos: ["*"]
  destinations: [{ namespace: "*", server: "*" }]
  clusterResourceWhitelist: [{ group: "*", kind: "*" }]
YAML
}

argocd_start() {
  kube_apiserver_ready || tb_die "Argo CD needs the apiserver (hack/testbed up control)"
  redis_ready || tb_die "Argo CD needs Redis (hack/testbed up redis)"
  argocd_setup
  local work=$DARWIN_RUN/data/argocd
  mkdir -p "$work/tmp"
  # The repo server clones into TMPDIR; its git credential helper's socket would be a fixed path in /tmp,
  # shared by every testbed slot, so it goes to the run directory too. GnuPG verification of commits is off
  # (no keyring here). Plain gRPC on loopback: no TLS, so no client CA either.
  PATH=$ARGOCD_DIR/bin:$PATH TMPDIR=$work/tmp ARGOCD_ASK_PASS_SOCK=$work/ask-pass.sock ARGOCD_GPG_ENABLED=false \
    tb_spawn argocd_repo_server "$ARGOCD_DIR/bin/argocd-repo-server" \
    --address 127.0.0.1 --port "$ARGOCD_REPO_SERVER_PORT" \
    --metrics-address 127.0.0.1 --metrics-port "$ARGOCD_REPO_SERVER_METRICS_PORT" \
    --disable-tls --client-ca-path= --redis "127.0.0.1:$REDIS_PORT" --logformat text
  # The in-cluster destination (https://kubernetes.default.svc) is the apiserver of the kubeconfig when
  # ARGOCD_FAKE_IN_CLUSTER is set, as in Argo CD's own local development setup; without it the controller
  # would look for a service-account token under /var/run/secrets. Its metrics and health endpoint listen on
  # every address (Argo CD has no flag for that). Resource health is kept in the Application's status
  # (status.resources[].health), where tests read it with kubectl; by default Argo CD 3 keeps it only in
  # Redis for its API server, which is not run here.
  KUBECONFIG=$KUBECONFIG_FILE ARGOCD_FAKE_IN_CLUSTER=true TMPDIR=$work/tmp \
    tb_spawn argocd_application_controller "$ARGOCD_DIR/bin/argocd-application-controller" \
    --namespace "$ARGOCD_NAMESPACE" \
    --repo-server "127.0.0.1:$ARGOCD_REPO_SERVER_PORT" --repo-server-plaintext \
    --redis "127.0.0.1:$REDIS_PORT" --metrics-port "$ARGOCD_CONTROLLER_METRICS_PORT" \
    --status-processors 4 --operation-processors 2 --persist-resource-health=true --logformat text
}

argocd_ready() {
  curl -fsS --max-time 3 "http://127.0.0.1:$ARGOCD_REPO_SERVER_METRICS_PORT/healthz" >/dev/null &&
    curl -fsS --max-time 3 "http://127.0.0.1:$ARGOCD_CONTROLLER_METRICS_PORT/healthz" >/dev/null
}

argocd_timeout() { echo 90; }

argocd_env() {
  echo "DARWIN_ARGOCD_VERSION=$ARGOCD_VERSION"
  echo "DARWIN_ARGOCD_NAMESPACE=$ARGOCD_NAMESPACE"
  echo "DARWIN_ARGOCD_CONTROLLER_METRICS=http://127.0.0.1:$ARGOCD_CONTROLLER_METRICS_PORT/metrics"
}
