/**
 * One materializer process: the Cassandra client, the online-store sink, the Materializer and a small HTTP
 * service for /metrics, /healthz and /readyz. `startMaterializer` is what cmd/materializer.ts and the
 * integration tests run.
 */
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { cassandraClient } from "../../controllers/feature-group/stores.ts";
import { buildService, type Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { CassandraSink } from "./cassandra-sink.ts";
import type { MaterializerConfig } from "./config.ts";
import { Materializer } from "./materializer.ts";

export interface RunningMaterializer {
  materializer: Materializer;
  app: Service;
  registry: Registry;
  /** Stops consuming (after the batch in flight), then closes the clients. */
  close(): Promise<void>;
}

export async function startMaterializer(options: {
  config: MaterializerConfig;
  client: KubeClient;
  log: Logger;
}): Promise<RunningMaterializer> {
  const { config, client, log } = options;
  const registry = new Registry();
  const cassandra = cassandraClient(config.cassandra);
  // Not awaited: the materializer starts while Cassandra is down and retries its batches until it answers.
  cassandra.connect().catch((err: unknown) => {
    log.warn({ err: String(err) }, "Could not connect to Cassandra yet; batches wait until it answers");
  });
  const sink = new CassandraSink(cassandra, { concurrency: config.concurrency });
  const materializer = new Materializer({
    brokers: config.brokers,
    groupId: config.groupId,
    client,
    cassandra,
    sinks: [sink],
    log,
    registry,
    namespace: config.namespace,
    maxBatch: config.maxBatch,
    statusIntervalMs: config.statusIntervalMs,
  });
  let started = false;
  const app = await buildService({
    name: "materializer",
    description: "Kafka feature topics to the online store. Probes and metrics only.",
    logger: log,
    registry,
    docs: false,
    readiness: [{ name: "featuregroups", check: () => ({ ok: started, detail: "not started yet" }) }],
  });
  await materializer.start();
  started = true;
  return {
    materializer,
    app,
    registry,
    close: async () => {
      await materializer.stop();
      await sink.close();
    },
  };
}
