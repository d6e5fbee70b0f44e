# The feature server from this checkout (cmd/feature-server.ts), against the testbed apiserver, Cassandra
# and Kafka (pushes).
# Not in a tier: hack/demo/feature-store.sh starts it (`hack/testbed up feature_server`) after the data tier.
# Training sets (historical-features) read the offline store in the testbed's S3 at DARWIN_OFFLINE_STORE_URI.

DARWIN_FEATURE_SERVER_HTTP=${DARWIN_FEATURE_SERVER_HTTP:-127.0.0.1:28490}
DARWIN_OFFLINE_STORE_URI=${DARWIN_OFFLINE_STORE_URI:-s3://darwin-offline-store/features}

feature_server_build() {
  [[ -x $REPO_DIR/node_modules/.bin/node ]] || (cd "$REPO_DIR" && npm ci --no-audit --no-fund)
}

feature_server_start() {
  tb_spawn feature_server env KUBECONFIG="$DARWIN_RUN/kubeconfig" \
    DARWIN_CASSANDRA_CONTACT="127.0.0.1:$CASSANDRA_PORT" DARWIN_CASSANDRA_DATACENTER=datacenter1 \
    DARWIN_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" \
    DARWIN_FEATURE_SERVER_HOST="${DARWIN_FEATURE_SERVER_HTTP%:*}" \
    DARWIN_FEATURE_SERVER_PORT="${DARWIN_FEATURE_SERVER_HTTP##*:}" \
    DARWIN_OFFLINE_STORE_URI="$DARWIN_OFFLINE_STORE_URI" DARWIN_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" \
    DARWIN_S3_REGION=us-east-1 DARWIN_S3_ACCESS_KEY_ID=testing DARWIN_S3_SECRET_ACCESS_KEY=testing \
    "$REPO_DIR/node_modules/.bin/node" "$REPO_DIR/cmd/feature-server.ts"
}

feature_server_ready() {
  curl -sf "http://$DARWIN_FEATURE_SERVER_HTTP/readyz" >/dev/null
}

feature_server_timeout() { echo 60; }

feature_server_env() {
  echo "DARWIN_FEATURE_SERVER_URL=http://$DARWIN_FEATURE_SERVER_HTTP"
  echo "DARWIN_OFFLINE_STORE_URI=$DARWIN_OFFLINE_STORE_URI"
}
