#!/usr/bin/env bash
# Quick start, the Chronos part (hack/up runs it once the seed's cluster is Ready): brings up Kafka, MariaDB,
# Chronos, its processor and the catalog, then shows the cluster's lifecycle as Chronos saw it: the events the
# operator published went through the ingest API and Kafka, and the sample ChronosTransformer
# (cluster-lifecycle) turned them into the cluster and user entities, the `owns` relationship, and the
# cluster's audit log; then the lineage of the quick start's Serve (its model version, run and experiment
# from MLflow, and the feature group it reads).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

NAMESPACE=${DARWIN_DEMO_NAMESPACE:-darwin-demo}
CLUSTER=${DARWIN_DEMO_CLUSTER:-housing-project}

echo "== starting Kafka, MariaDB, Chronos (API and processor) and the catalog (logs: \$DARWIN_RUN/logs/)"
hack/testbed up dataplane
set -a
# shellcheck disable=SC1090
source "$(hack/testbed envfile)"
set +a
k() { "$DARWIN_KUBECTL" "$@"; }
TOKEN=$(k config view --raw --minify -o jsonpath='{.users[0].user.token}')
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$DARWIN_CHRONOS_URL/chronos/api/v1/namespaces/$NAMESPACE/$1"; }

echo "== waiting for the operator's queued events to reach Chronos and the processor"
owner=$(k get darwincluster "$CLUSTER" -n "$NAMESPACE" -o jsonpath='{.spec.owner}')
phase=$(k get darwincluster "$CLUSTER" -n "$NAMESPACE" -o jsonpath='{.status.phase}')
for _ in $(seq 1 120); do
  seen=$(api "entities/cluster/$CLUSTER" 2>/dev/null | jq -r '.attributes.phase // empty' || true)
  [[ $seen == "$phase" ]] && break
  sleep 1
done
[[ ${seen:-} == "$phase" ]] || { echo "Chronos has not seen $CLUSTER in phase $phase; see $DARWIN_RUN/logs/chronos*.log" >&2; exit 1; }

echo
echo "\$ curl \$DARWIN_CHRONOS_URL/chronos/api/v1/namespaces/$NAMESPACE/entities/cluster/$CLUSTER"
api "entities/cluster/$CLUSTER" | jq .
echo
echo "\$ curl .../entities/user/$owner/relationships"
api "entities/user/$owner/relationships" | jq -r '.relationships[] | "\(.from.type)/\(.from.id) --\(.type)--> \(.to.type)/\(.to.id)"'
echo
echo "\$ curl .../entities/cluster/$CLUSTER/events   # the audit log"
api "entities/cluster/$CLUSTER/events" | jq -r '.events[] | "\(.time)  \(.source)  \(.type)  phase=\(.payload.phase)"'
echo
echo "\$ kubectl get chronostransformer -n darwin-system   # the default rules, applied to every namespace"
k get chronostransformer -n darwin-system
echo
# data -> model -> deployment: the Serve's own events (serve-lifecycle) give its model version, the MLflow
# run and experiment that produced it, and the feature group it reads (the sample declares user-features).
lineage="namespaces/serve/entities/serve/iris-classifier/lineage?direction=upstream&depth=3"
wanted='[.nodes[].type] as $t | all("model_version", "run", "experiment", "feature_group"; . as $w | $t | any(. == $w))'
for _ in $(seq 1 60); do
  graph=$(curl -sf -H "Authorization: Bearer $TOKEN" "$DARWIN_CHRONOS_URL/chronos/api/v1/$lineage" || true)
  [[ -n $graph ]] && jq -e "$wanted" <<<"$graph" >/dev/null && break
  sleep 1
done
echo "\$ curl .../namespaces/serve/entities/serve/iris-classifier/lineage?direction=upstream&depth=3"
none='{"edges": []}'
jq -r '.edges[] | "\(.from.type)/\(.from.id) --\(.type)--> \(.to.type)/\(.to.id)"' <<<"${graph:-$none}"
echo
# The catalog registers MLflow's models itself (the iris model is tagged darwin.namespace=serve).
models="darwin-catalog/v1/assets?type=model&namespace=serve"
no_assets='{"assets": []}'
for _ in $(seq 1 30); do
  found=$(curl -sf -H "Authorization: Bearer $TOKEN" "$DARWIN_CATALOG_URL/$models" || true)
  [[ -n $found ]] && jq -e '.total > 0' <<<"$found" >/dev/null && break
  sleep 1
done
echo "\$ curl \$DARWIN_CATALOG_URL/$models   # MLflow's registered models, registered by the catalog"
jq -r '.assets[] | "\(.name)  \(.description)\n  versions: \([.versions[]? | "\(.version)\(if (.aliases | length) > 0 then " (\(.aliases | join(",")))" else "" end) run \(.runId // "-")"] | join("; "))"' <<<"${found:-$no_assets}"
echo
echo "Chronos: $DARWIN_CHRONOS_URL/docs    catalog: $DARWIN_CATALOG_URL/docs"
