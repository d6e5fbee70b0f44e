#!/usr/bin/env bash
# Quick start, the feature store: bring up Cassandra, Kafka and MariaDB, the feature server and the
# materializer, create the seed's `user_features` group (the FeatureGroup user-features), push a few rows
# through the push API (to the group's Kafka topic), wait until the materializer wrote them, and fetch them
# with the seed's fetch_features call shape over HTTP, authenticated as a ServiceAccount of the group's
# namespace; then bulk-load the 10,000-row sample Parquet file from S3 with hermes and build a point-in-time
# training set.
# hack/up runs it after the operator is up; it can be run again on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
NAMESPACE=${DARWIN_DEMO_NAMESPACE:-darwin-demo}
node_bin=node_modules/.bin/node

echo "== bringing up the feature store's data services (Cassandra, Kafka, MariaDB, S3)"
hack/testbed up control cassandra kafka mariadb s3
set -a
# shellcheck disable=SC1090
source "$(hack/testbed envfile)"
set +a
k() { "$DARWIN_KUBECTL" "$@"; }
show() {
  echo
  echo "\$ kubectl $*"
  k "$@"
}

echo "== starting the feature server and the materializer (logs: $DARWIN_RUN/logs/feature_server.log, materializer.log)"
hack/testbed up feature_server materializer
set -a
# shellcheck disable=SC1090
source "$(hack/testbed envfile)"
set +a

echo "== creating the seed's user_features group: FeatureGroup user-features in $NAMESPACE"
k create namespace "$NAMESPACE" --dry-run=client -o yaml | k apply -f - >/dev/null
k apply --server-side -n "$NAMESPACE" -f samples/darwin.dreamhorizon.org_v1alpha1_featuregroup.yaml
k wait --for=condition=Ready featuregroup/user-features -n "$NAMESPACE" --timeout=180s
show get featuregroup user-features -n "$NAMESPACE" -o wide

echo
echo "== a ServiceAccount of $NAMESPACE allowed to read its feature groups and push to them, and a token for it"
k apply -n "$NAMESPACE" -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: feature-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: feature-reader}
rules:
  - {apiGroups: [darwin.dreamhorizon.org], resources: [featuregroups], verbs: [get]}
  - {apiGroups: [darwin.dreamhorizon.org], resources: [featuregroups/push], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: feature-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: feature-reader}
subjects: [{kind: ServiceAccount, name: feature-reader, namespace: $NAMESPACE}]
YAML
TOKEN=$(k create token feature-reader -n "$NAMESPACE")

ago() { date -u -d "$1 minutes ago" +%Y-%m-%dT%H:%M:%SZ; }
newest=$(ago 1)
push="{\"feature_group_name\": \"user_features\", \"rows\": [
  {\"user_id\": 123, \"age\": 59, \"tenure\": 7.575, \"activity_score\": 0.75088, \"event_time\": \"$(ago 15)\"},
  {\"user_id\": 456, \"age\": 52, \"tenure\": 4.325, \"activity_score\": 0.014841, \"event_time\": \"$(ago 5)\"},
  {\"user_id\": 789, \"age\": 31, \"tenure\": 18.505, \"activity_score\": 0.269554, \"event_time\": \"$newest\"}]}"
echo
echo "== pushing three users' features (202 once Kafka acknowledged them; the materializer writes them to Cassandra)"
echo "\$ curl -X POST $DARWIN_FEATURE_SERVER_URL/feature-store/v1/features:push -H \"Authorization: Bearer \$TOKEN\" -d '$push'"
curl -sS -X POST "$DARWIN_FEATURE_SERVER_URL/feature-store/v1/features:push" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$push" -w ' (HTTP %{http_code})'
echo
# Materialized once the group's freshness reaches the newest pushed event time.
for _ in $(seq 1 120); do
  fresh=$(k get featuregroup user-features -n "$NAMESPACE" -o jsonpath='{.status.lastWriteTime}')
  [[ ! ${fresh:0:19} < ${newest:0:19} ]] && [[ -n $fresh ]] && break
  sleep 0.5
done
show get featuregroup user-features -n "$NAMESPACE" -o custom-columns=NAME:.metadata.name,FRESH:.status.lastWriteTime,LAG:.status.materialization.lag

body='{"feature_group_name": "user_features", "feature_columns": ["age", "tenure", "activity_score"],
  "primary_key_names": ["user_id"], "primary_key_values": [[123], [456], [789]]}'
echo
echo "\$ curl -X POST $DARWIN_FEATURE_SERVER_URL/feature-store/v1/features:fetch -H \"Authorization: Bearer \$TOKEN\" -d '$body'"
curl -sS -X POST "$DARWIN_FEATURE_SERVER_URL/feature-store/v1/features:fetch" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$body"
echo
echo
echo "The same through Feast's API (a Feast client only changes its URL):"
feast='{"features": ["user_features:age", "user_features:activity_score"], "entities": {"user_id": [123, 456]}}'
echo "\$ curl -X POST $DARWIN_FEATURE_SERVER_URL/get-online-features -H \"Authorization: Bearer \$TOKEN\" -d '$feast'"
curl -sS -X POST "$DARWIN_FEATURE_SERVER_URL/get-online-features" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$feast"
echo
echo
echo "API documentation (Swagger UI): $DARWIN_FEATURE_SERVER_URL/docs"

echo
echo "== bulk load: the 10,000-row sample Parquet file, put on S3, loaded with hermes (online table + offline store)"
sample=$(mktemp -d)/user-features.parquet
"$node_bin" dataplane/populator/sample-data.ts "$sample" 10000
"$node_bin" -e '
const [file, endpoint] = process.argv.slice(1);
const { readFileSync } = await import("node:fs");
const s3 = await import("@aws-sdk/client-s3");
const client = new s3.S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
await client.send(new s3.CreateBucketCommand({ Bucket: "darwin-demo-data" })).catch(() => undefined);
await client.send(new s3.PutObjectCommand({ Bucket: "darwin-demo-data", Key: "user-features.parquet", Body: readFileSync(file) }));
' "$sample" "$DARWIN_S3_ENDPOINT"
echo "\$ hermes features load user_features --file s3://darwin-demo-data/user-features.parquet -n $NAMESPACE"
"$node_bin" cli/hermes.ts features load user_features --file s3://darwin-demo-data/user-features.parquet -n "$NAMESPACE"

echo
echo "== a point-in-time training set: each user's features as they were 3 hours ago and now"
entities=$(dirname "$sample")/entities.json
"$node_bin" -e '
const now = Date.now();
const rows = [1, 2, 3].flatMap((u) => [now - 3 * 3600e3, now].map((t) => ({ user_id: u, event_timestamp: new Date(t).toISOString() })));
require("node:fs").writeFileSync(process.argv[1], JSON.stringify(rows));
' "$entities"
echo "\$ hermes features training-set --features user_features:age,user_features:tenure,user_features:activity_score --entities entities.json -n $NAMESPACE --feature-server $DARWIN_FEATURE_SERVER_URL"
"$node_bin" cli/hermes.ts features training-set -n "$NAMESPACE" --feature-server "$DARWIN_FEATURE_SERVER_URL" \
  --features user_features:age,user_features:tenure,user_features:activity_score --entities "$entities"
rm -rf "$(dirname "$sample")"
