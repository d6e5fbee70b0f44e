/**
 * The `feature-server` entry point: `node cmd/feature-server.ts [--kubeconfig FILE]`. Configuration comes
 * from DARWIN_* environment variables (dataplane/feature-server/config.ts): Cassandra contact points and
 * data center, port, namespace, maximum keys per request, Kafka for pushes, the offline store.
 */
import { loadFeatureServerConfig } from "../dataplane/feature-server/config.ts";
import { startFeatureServer } from "../dataplane/feature-server/server.ts";
import { runDataplaneProgram } from "./dataplane-main.ts";

await runDataplaneProgram({
  name: "feature-server",
  environment: `DARWIN_FEATURE_SERVER_HOST, DARWIN_FEATURE_SERVER_PORT, DARWIN_FEATURE_SERVER_NAMESPACE,
DARWIN_FEATURE_SERVER_MAX_KEYS, DARWIN_FEATURE_SERVER_READ_PATTERN, DARWIN_CASSANDRA_CONTACT,
DARWIN_CASSANDRA_DATACENTER, DARWIN_KAFKA_BROKERS, DARWIN_FEATURE_SERVER_MAX_PUSH_ROWS,
DARWIN_FEATURE_SERVER_PUSH_TIMEOUT_MS, DARWIN_OFFLINE_STORE_URI, DARWIN_S3_ENDPOINT, DARWIN_S3_REGION,
DARWIN_S3_ACCESS_KEY_ID, DARWIN_S3_SECRET_ACCESS_KEY, DARWIN_LOG_LEVEL`,
  load: () => loadFeatureServerConfig(),
  start: startFeatureServer,
});
