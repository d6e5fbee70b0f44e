/**
 * The `materializer` entry point: `node cmd/materializer.ts [--kubeconfig FILE]`. Configuration comes from
 * DARWIN_* environment variables (dataplane/materializer/config.ts).
 */
import { loadMaterializerConfig } from "../dataplane/materializer/config.ts";
import { startMaterializer } from "../dataplane/materializer/run.ts";
import { runDataplaneProgram } from "./dataplane-main.ts";

await runDataplaneProgram({
  name: "materializer",
  environment: `DARWIN_KAFKA_BROKERS, DARWIN_CASSANDRA_CONTACT, DARWIN_CASSANDRA_DATACENTER,
DARWIN_MATERIALIZER_GROUP, DARWIN_MATERIALIZER_NAMESPACE, DARWIN_MATERIALIZER_MAX_BATCH,
DARWIN_MATERIALIZER_CONCURRENCY, DARWIN_MATERIALIZER_STATUS_INTERVAL_MS, DARWIN_MATERIALIZER_HOST,
DARWIN_MATERIALIZER_PORT, DARWIN_OFFLINE_STORE_URI, DARWIN_S3_ENDPOINT, DARWIN_S3_REGION,
DARWIN_S3_ACCESS_KEY_ID, DARWIN_S3_SECRET_ACCESS_KEY, DARWIN_MATERIALIZER_OFFLINE_FLUSH_ROWS,
DARWIN_MATERIALIZER_OFFLINE_FLUSH_MS, DARWIN_LOG_LEVEL`,
  load: () => loadMaterializerConfig(),
  start: startMaterializer,
});
