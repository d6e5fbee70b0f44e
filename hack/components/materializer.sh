# The materializer from this checkout (cmd/materializer.ts): the feature topics of every streaming
# FeatureGroup into Cassandra and into the offline store the feature server reads training sets from
# (DARWIN_OFFLINE_STORE_URI on the testbed's S3), against the testbed apiserver, Kafka and Cassandra. Not in
# a tier, like the feature server: hack/demo/feature-store.sh starts it (`hack/testbed up materializer`)
# after the data tier.

DARWIN_MATERIALIZER_HTTP=${DARWIN_MATERIALIZER_HTTP:-127.0.0.1:28492}

materializer_build() { feature_server_build; }

materializer_start() {
  tb_spawn materializer env KUBECONFIG="$DARWIN_RUN/kubeconfig" \
    DARWIN_CASSANDRA_CONTACT="127.0.0.1:$CASSANDRA_PORT" DARWIN_CASSANDRA_DATACENTER=datacenter1 \
    DARWIN_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" \
    DARWIN_MATERIALIZER_HOST="${DARWIN_MATERIALIZER_HTTP%:*}" \
    DARWIN_MATERIALIZER_PORT="${DARWIN_MATERIALIZER_HTTP##*:}" \
    DARWIN_OFFLINE_STORE_URI="$DARWIN_OFFLINE_STORE_URI" DARWIN_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" \
    DARWIN_S3_REGION=us-east-1 DARWIN_S3_ACCESS_KEY_ID=testing DARWIN_S3_SECRET_ACCESS_KEY=testing \
    DARWIN_MATERIALIZER_OFFLINE_FLUSH_MS=5000 \
    "$REPO_DIR/node_modules/.bin/node" "$REPO_DIR/cmd/materializer.ts"
}

# Ready once it has synced the FeatureGroups and started consuming (its /readyz says so).
materializer_ready() {
  curl -sf "http://$DARWIN_MATERIALIZER_HTTP/readyz" >/dev/null
}

materializer_timeout() { echo 60; }

materializer_env() {
  echo "DARWIN_MATERIALIZER_METRICS_URL=http://$DARWIN_MATERIALIZER_HTTP/metrics"
}
