/**
 * `chronos`: the Chronos ingest and query API. Environment: DARWIN_MYSQL_URL, DARWIN_KAFKA_BROKERS,
 * DARWIN_CHRONOS_* (dataplane/chronos/config.ts); Kubernetes credentials from $KUBECONFIG or in-cluster,
 * for TokenReview and SubjectAccessReview.
 */
import { Registry } from "prom-client";
import { kafkaBrokers, loadEnv } from "../dataplane/chronos/config.ts";
import { EventPublisher, ensureTopics } from "../dataplane/chronos/kafka.ts";
import { CHRONOS_MIGRATIONS } from "../dataplane/chronos/migrations.ts";
import { buildChronosService } from "../dataplane/chronos/service.ts";
import { createPool, migrate } from "../dataplane/shared/mysql.ts";
import { closeOnSignals, KubeAuth, listenService } from "../operator/http/index.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { createLogger } from "../operator/logger.ts";

const env = loadEnv();
const logger = createLogger(env.DARWIN_LOG_LEVEL, { component: "chronos" });
const pool = createPool(env.DARWIN_MYSQL_URL);
const applied = await migrate(pool, "chronos", CHRONOS_MIGRATIONS);
logger.info({ applied }, "Migrated the Chronos schema");
const kafka = {
  brokers: kafkaBrokers(env),
  clientId: "darwin-chronos",
  topic: env.DARWIN_CHRONOS_TOPIC,
  partitions: env.DARWIN_CHRONOS_PARTITIONS,
  sendTimeoutMs: env.DARWIN_CHRONOS_SEND_TIMEOUT_MS,
};
await ensureTopics(kafka);
const publisher = new EventPublisher(kafka);
const app = await buildChronosService({
  pool,
  publisher,
  auth: new KubeAuth({ client: KubeClient.load({ userAgent: "darwin-chronos" }) }),
  logger,
  registry: new Registry(),
  maxBatch: env.DARWIN_CHRONOS_MAX_BATCH,
});
const port = await listenService(app, env.DARWIN_CHRONOS_PORT, env.DARWIN_CHRONOS_HOST);
logger.info({ port, topic: kafka.topic }, "Started Chronos");
await closeOnSignals(app).closed;
await publisher.close();
await pool.end();
