# Kafka 4 in KRaft mode: one JVM that is both broker and controller, jars from Maven Central.
KAFKA_VERSION=${DARWIN_KAFKA_VERSION:-4.4.0}
KAFKA_PORT=${DARWIN_KAFKA_PORT:-29092}
KAFKA_CONTROLLER_PORT=${DARWIN_KAFKA_CONTROLLER_PORT:-29093}
# fixed so that a data dir formatted once stays valid across restarts
KAFKA_CLUSTER_ID=${DARWIN_KAFKA_CLUSTER_ID:-ZGFyd2luLXRlc3RiZWQAAA}
KAFKA_HOME="$DARWIN_CACHE/kafka-$KAFKA_VERSION"
KAFKA_DATA="$DARWIN_RUN/data/kafka"

kafka_build() {
  tb_mvn_libs kafka "$HACK_DIR/services/kafka/pom.xml" "$KAFKA_HOME/libs" -Dkafka.version="$KAFKA_VERSION"
}

# the broker's heap, logging and class path
KAFKA_JAVA=(java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$HACK_DIR/services/kafka/log4j2.properties" -cp "$KAFKA_HOME/libs/*")

kafka_start() {
  mkdir -p "$KAFKA_DATA"
  tb_render "$HACK_DIR/services/kafka/server.properties" "$KAFKA_DATA/server.properties" \
    PORT="$KAFKA_PORT" CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" DATA="$KAFKA_DATA"
  if [[ ! -f $KAFKA_DATA/metadata/meta.properties ]]; then
    tb_log "kafka: formatting storage (cluster id $KAFKA_CLUSTER_ID)"
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --ignore-formatted --cluster-id "$KAFKA_CLUSTER_ID" \
      --config "$KAFKA_DATA/server.properties" >"$DARWIN_RUN/logs/kafka-format.log" 2>&1 ||
      { cat "$DARWIN_RUN/logs/kafka-format.log" >&2; tb_die "kafka: storage format failed"; }
  fi
  tb_spawn kafka "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DATA/server.properties"
}

# Ready when the broker answers an ApiVersions request (v0: every Kafka version serves it) with error 0 on its
# client listener; the broker only processes requests once it has caught up with the metadata quorum.
kafka_ready() {
  local hex
  # size=10 | api_key=18 | api_version=0 | correlation_id=7 | client_id=null
  hex=$(tb_tcp_probe "$KAFKA_PORT" '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x07\xff\xff' 10)
  [[ ${hex:12} == "00 00 00 07 00 00" ]]
}

kafka_timeout() { echo 120; }

kafka_env() {
  echo "DARWIN_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "DARWIN_KAFKA_VERSION=$KAFKA_VERSION"
}
