# Helm, built from helm.sh/helm/v3, for rendering the project's charts and dry-running them against the
# testbed apiserver. A build-only component: helm_start has nothing to run, and "ready" means built.
# Sourced by hack/testbed.
source "$HACK_DIR/kube/gobuild.sh"

HELM_VERSION=${DARWIN_HELM_VERSION:-v3.22.0}
HELM_DIR=$DARWIN_CACHE/helm-$HELM_VERSION

helm_build() {
  tb_go_have "$HELM_DIR/bin" helm && return 0
  local kv=${KUBE_VERSION#v} ldflags
  # Stamp the version (else `helm version` says v3.22 without the patch) and, as Helm's own Makefile does,
  # the Kubernetes version `helm template`/`helm lint` assume offline: here the testbed's, not Helm's 1.20
  # fallback, so charts with kubeVersion constraints render as they would against the testbed.
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $p.k8sVersionMajor=${kv%%.*} -X $p.k8sVersionMinor=$(cut -d. -f2 <<<"$kv")"
  done
  tb_go_wrapper_build "$HELM_DIR" "$ldflags" "go 1.26

require helm.sh/helm/v3 $HELM_VERSION" helm.sh/helm/v3/cmd/helm
}

helm_start() { :; }

helm_ready() { [[ -x $HELM_DIR/bin/helm ]]; }

helm_env() { echo "DARWIN_HELM=$HELM_DIR/bin/helm"; }
