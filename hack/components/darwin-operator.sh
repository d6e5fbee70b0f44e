# The Darwin operator itself, run from this checkout against the testbed apiserver (tier `platform`).
# Configuration: hack/operator-local.yaml (webhook on 127.0.0.1, self-managed certificates); lifecycle events to
# the local Chronos (hack/components/chronos.sh), CatalogAssets to the testbed's MariaDB.

DARWIN_OPERATOR_HTTP=${DARWIN_OPERATOR_HTTP:-127.0.0.1:28480}

darwin_operator_build() {
  [[ -x $REPO_DIR/node_modules/.bin/node ]] || (cd "$REPO_DIR" && npm ci --no-audit --no-fund)
}

darwin_operator_start() {
  local kubectl="$KUBE_BIN/kubectl"
  "$kubectl" --kubeconfig "$DARWIN_RUN/kubeconfig" create namespace darwin-system --dry-run=client -o yaml |
    "$kubectl" --kubeconfig "$DARWIN_RUN/kubeconfig" apply -f - >/dev/null
  # Lifecycle events go to the local Chronos and CatalogAssets to its MariaDB once they run (hack/demo/chronos.sh
  # starts them): the operator queues events and retries registrations until then.
  tb_spawn darwin_operator env KUBECONFIG="$DARWIN_RUN/kubeconfig" \
    DARWIN_CHRONOS_URL="http://127.0.0.1:$CHRONOS_PORT" \
    DARWIN_CATALOG_MYSQL_URL="mysql://root:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/darwin" \
    "$REPO_DIR/node_modules/.bin/node" --max-semi-space-size=4 --max-old-space-size=384 "$REPO_DIR/cmd/operator.ts" \
    --config "$(_darwin_operator_config)"
}

# hack/operator-local.yaml, with the HTTP and webhook ports of this testbed slot (lib/common.sh), and image
# builds on the real node: the testbed's BuildKit image, pushing to the local registry at the node's address
# (node.sh, node-images.sh).
_darwin_operator_config() {
  local config=$DARWIN_RUN/operator-local.yaml webhook_port=29443
  [[ -z $DARWIN_TESTBED_SLOT ]] || webhook_port=$((29443 + DARWIN_TESTBED_SLOT * 30))
  {
    sed -e "s/port: 28480/port: ${DARWIN_OPERATOR_HTTP##*:}/" -e "s/29443/$webhook_port/g" "$HACK_DIR/operator-local.yaml"
    cat <<YAML
artifactBuilds:
  image: $NODE_REGISTRY/darwin-buildkit:$BUILDKIT_VERSION
  insecureRegistries: [$NODE_REGISTRY_POD]
YAML
  } >"$config"
  echo "$config"
}

darwin_operator_ready() {
  curl -sf "http://$DARWIN_OPERATOR_HTTP/readyz" >/dev/null
}

darwin_operator_timeout() { echo 60; }

darwin_operator_env() {
  echo "DARWIN_OPERATOR_METRICS=http://$DARWIN_OPERATOR_HTTP/metrics"
}

# Stopping the local operator also removes its webhook configuration: with failurePolicy Fail, a
# configuration pointing at a stopped local process would refuse every create on the testbed.
darwin_operator_stop() {
  if [[ $1 == kill ]]; then tb_kill9 darwin_operator; else tb_stop darwin_operator; fi
  local kubectl="$KUBE_BIN/kubectl"
  if kube_apiserver_ready 2>/dev/null; then
    "$kubectl" --kubeconfig "$DARWIN_RUN/kubeconfig" delete validatingwebhookconfiguration darwin-validating-webhook \
      --ignore-not-found >/dev/null || true
  fi
}
