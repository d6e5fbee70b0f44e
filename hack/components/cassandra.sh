# Cassandra 5.0 from Maven Central (cassandra-all and its dependencies) on Java 17, one node on 127.0.0.1.
CASSANDRA_VERSION=${DARWIN_CASSANDRA_VERSION:-5.0.9}
CASSANDRA_PORT=${DARWIN_CASSANDRA_PORT:-29042}
CASSANDRA_STORAGE_PORT=${DARWIN_CASSANDRA_STORAGE_PORT:-27000}
CASSANDRA_HEAP=${DARWIN_CASSANDRA_HEAP:-1g}
CASSANDRA_HOME="$DARWIN_CACHE/cassandra-$CASSANDRA_VERSION"
CASSANDRA_DATA="$DARWIN_RUN/data/cassandra"

# The module exports and opens Cassandra needs on Java 17 (the same set as the jvm17-server.options file of
# the Cassandra distribution, which Maven Central does not carry).
CASSANDRA_JVM17_OPTS=(
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11
)

cassandra_build() {
  tb_mvn_libs cassandra "$HACK_DIR/services/cassandra/pom.xml" "$CASSANDRA_HOME/libs" \
    -Dcassandra.version="$CASSANDRA_VERSION"
}

cassandra_start() {
  local jamm
  jamm=$(compgen -G "$CASSANDRA_HOME/libs/jamm-*.jar" | head -n 1) || tb_die "cassandra: no jamm jar in $CASSANDRA_HOME/libs"
  mkdir -p "$CASSANDRA_DATA"/{data,commitlog,saved_caches,hints,cdc_raw} "$DARWIN_RUN/logs/cassandra"
  tb_render "$HACK_DIR/services/cassandra/cassandra.yaml" "$CASSANDRA_DATA/cassandra.yaml" \
    NATIVE_PORT="$CASSANDRA_PORT" STORAGE_PORT="$CASSANDRA_STORAGE_PORT" DATA="$CASSANDRA_DATA"
  # No JMX port is opened (neither com.sun.management.jmxremote.port nor cassandra.jmx.local.port is set).
  tb_spawn cassandra java \
    -Xms256m -Xmx"$CASSANDRA_HEAP" -Xss256k -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 \
    -XX:MaxGCPauseMillis=300 -XX:+ExitOnOutOfMemoryError \
    "${CASSANDRA_JVM17_OPTS[@]}" \
    -javaagent:"$jamm" \
    -Djava.net.preferIPv4Stack=true \
    -Dcassandra-foreground=yes \
    -Dcassandra.config="file://$CASSANDRA_DATA/cassandra.yaml" \
    -Dcassandra.storagedir="$CASSANDRA_DATA" \
    -Dcassandra.logdir="$DARWIN_RUN/logs/cassandra" \
    -Dlogback.configurationFile="$HACK_DIR/services/cassandra/logback.xml" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 \
    -Dcassandra.ring_delay_ms=1000 \
    -cp "$CASSANDRA_HOME/libs/*" org.apache.cassandra.service.CassandraDaemon
}

# Ready when the native (CQL) transport answers an OPTIONS request with SUPPORTED; Cassandra opens it last,
# after the commit log is replayed and the schema is loaded.
cassandra_ready() {
  # protocol v4 request header: version=0x04 flags=0 stream=0 opcode=OPTIONS(0x05) length=0
  [[ $(tb_tcp_probe "$CASSANDRA_PORT" '\x04\x00\x00\x00\x05\x00\x00\x00\x00' 5) == "84 00 00 00 06" ]]
}

cassandra_timeout() { echo 240; }

cassandra_env() {
  echo "DARWIN_CASSANDRA_CONTACT=127.0.0.1:$CASSANDRA_PORT"
  echo "DARWIN_CASSANDRA_DATACENTER=datacenter1"
  echo "DARWIN_CASSANDRA_VERSION=$CASSANDRA_VERSION"
}
