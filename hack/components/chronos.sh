# Chronos (ingest API and event processor) and the catalog API, run from this checkout against the testbed's
# apiserver, Kafka and MariaDB (tier `dataplane`). hack/demo/chronos.sh starts them after hack/up.

CHRONOS_PORT=${DARWIN_CHRONOS_PORT:-28090}
CATALOG_PORT=${DARWIN_CATALOG_PORT:-28091}

# The environment every data-plane process of this checkout gets.
_dataplane_env() {
  echo KUBECONFIG="$DARWIN_RUN/kubeconfig" \
    DARWIN_MYSQL_URL="mysql://root:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/darwin" \
    DARWIN_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" \
    DARWIN_CHRONOS_HOST=127.0.0.1 DARWIN_CHRONOS_PORT="$CHRONOS_PORT" \
    DARWIN_CATALOG_HOST=127.0.0.1 DARWIN_CATALOG_PORT="$CATALOG_PORT"
}

_dataplane_spawn() {
  local proc=$1 entry=$2
  # shellcheck disable=SC2046 # word splitting of KEY=VALUE pairs is intended
  tb_spawn "$proc" env $(_dataplane_env) "$REPO_DIR/node_modules/.bin/node" "$REPO_DIR/cmd/$entry"
}

chronos_build() { darwin_operator_build; }
chronos_start() { _dataplane_spawn chronos chronos.ts; }
chronos_ready() { curl -sf "http://127.0.0.1:$CHRONOS_PORT/readyz" >/dev/null; }
chronos_timeout() { echo 60; }
chronos_env() { echo "DARWIN_CHRONOS_URL=http://127.0.0.1:$CHRONOS_PORT"; }

chronos_processor_build() { darwin_operator_build; }
chronos_processor_start() { _dataplane_spawn chronos_processor chronos-processor.ts; }
# Ready once it has loaded the rules and joined the consumer group (it says so in its log).
chronos_processor_ready() {
  tb_running chronos_processor && grep -q '"Started Chronos processor"' "$DARWIN_RUN/logs/chronos_processor.log"
}
chronos_processor_timeout() { echo 60; }
chronos_processor_env() { :; }

catalog_build() { darwin_operator_build; }
# The catalog registers the testbed MLflow's models (those tagged darwin.namespace) every 10 s.
catalog_start() {
  # shellcheck disable=SC2046 # word splitting of KEY=VALUE pairs is intended
  tb_spawn catalog env $(_dataplane_env) DARWIN_MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT" \
    DARWIN_CATALOG_MLFLOW_SYNC_SECONDS=10 "$REPO_DIR/node_modules/.bin/node" "$REPO_DIR/cmd/catalog.ts"
}
catalog_ready() { curl -sf "http://127.0.0.1:$CATALOG_PORT/readyz" >/dev/null; }
catalog_timeout() { echo 60; }
catalog_env() { echo "DARWIN_CATALOG_URL=http://127.0.0.1:$CATALOG_PORT"; }

# Named explicitly: the default stop matches pid files by prefix, and chronos is a prefix of chronos_processor.
chronos_stop() { if [[ $1 == kill ]]; then tb_kill9 chronos; else tb_stop chronos; fi; }
