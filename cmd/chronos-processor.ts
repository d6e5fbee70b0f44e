/**
 * `chronos-processor`: the consumer group that applies ChronosTransformers to events. Environment as for
 * `chronos` (dataplane/chronos/config.ts); Kubernetes credentials to watch ChronosTransformers and write
 * their status.
 */
import { kafkaBrokers, loadEnv } from "../dataplane/chronos/config.ts";
import { ensureTopics } from "../dataplane/chronos/kafka.ts";
import { CHRONOS_MIGRATIONS } from "../dataplane/chronos/migrations.ts";
import { ChronosProcessor } from "../dataplane/chronos/processor.ts";
import { createPool, migrate } from "../dataplane/shared/mysql.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { createLogger } from "../operator/logger.ts";

const env = loadEnv();
const log = createLogger(env.DARWIN_LOG_LEVEL, { component: "chronos-processor" });
const pool = createPool(env.DARWIN_MYSQL_URL);
await migrate(pool, "chronos", CHRONOS_MIGRATIONS);
const brokers = kafkaBrokers(env);
await ensureTopics({
  brokers,
  clientId: "darwin-chronos-processor",
  topic: env.DARWIN_CHRONOS_TOPIC,
  partitions: env.DARWIN_CHRONOS_PARTITIONS,
  sendTimeoutMs: env.DARWIN_CHRONOS_SEND_TIMEOUT_MS,
});
const processor = new ChronosProcessor({
  brokers,
  topic: env.DARWIN_CHRONOS_TOPIC,
  groupId: env.DARWIN_CHRONOS_GROUP,
  pool,
  client: KubeClient.load({ userAgent: "darwin-chronos-processor" }),
  log,
  systemNamespace: env.DARWIN_CHRONOS_SYSTEM_NAMESPACE,
  statusIntervalMs: env.DARWIN_CHRONOS_STATUS_INTERVAL_MS,
});
await processor.start();
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.once(signal, () => {
    log.info({ signal }, "Received signal; stopping");
    void processor
      .stop()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
