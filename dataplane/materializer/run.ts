/**
 * One materializer process: the Cassandra client, the online-store sink, the offline-store sink (when
 * `offlineStore.uri` is set), the Materializer and a small HTTP service for /metrics, /healthz and /readyz. `startMaterializer` is what cmd/materializer.ts and the
 * integration tests run.
 */
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { cassandraClient } from "../../controllers/feature-group/cassandra.ts";
import { buildService, type Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { parseS3Uri, s3Client } from "../offline-store/s3.ts";
import { OfflineStoreWriter } from "../offline-store/writer.ts";
import { CassandraSink } from "./cassandra-sink.ts";
import type { MaterializerConfig } from "./config.ts";
import { Materializer } from "./materializer.ts";
import { OfflineStoreSink } from "./offline-sink.ts";
import type { RowSink } from "./sink.ts";

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
  const sinks: RowSink[] = [new CassandraSink(cassandra, { concurrency: config.concurrency })];
  const { offlineStore } = config;
  const root = offlineStore.uri ? parseS3Uri(offlineStore.uri) : undefined;
  const s3 = root ? s3Client(offlineStore.s3) : undefined;
  if (root && s3) {
    // The sink decides when files are written (and offsets committed); the writer never writes by itself.
    const writer = new OfflineStoreWriter({
      s3,
      root,
      maxRows: Number.POSITIVE_INFINITY,
      maxAgeMs: Number.POSITIVE_INFINITY,
      log,
    });
    sinks.push(
      new OfflineStoreSink({ writer, maxRows: offlineStore.flushRows, maxAgeMs: offlineStore.flushMs }),
    );
  }
  const materializer = new Materializer({
    brokers: config.brokers,
    groupId: config.groupId,
    client,
    cassandra,
    sinks,
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
      // Stopping flushes the buffering sinks and commits; closing them then only releases their clients.
      await materializer.stop();
      for (const sink of sinks) await sink.close();
      s3?.destroy();
    },
  };
}
