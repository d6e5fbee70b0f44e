/**
 * One feature server: the FeatureGroup informer (groups come from its cache, never from the apiserver per
 * request), a token-aware Cassandra client, the service and its HTTP app. `startFeatureServer` is what
 * cmd/feature-server.ts and the integration tests run.
 */
import type { Logger } from "pino";
import { Histogram, Registry } from "prom-client";
import { cassandraClient } from "../../controllers/feature-group/cassandra.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { KubeAuth, type Service } from "../../operator/http/index.ts";
import { Informer } from "../../operator/informer.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { parseS3Uri, s3Client } from "../offline-store/s3.ts";
import { KafkaPublisher } from "../shared/kafka.ts";
import { buildFeatureServer } from "./app.ts";
import type { FeatureServerConfig } from "./config.ts";
import { cassandraTableColumns, GroupRegistry } from "./groups.ts";
import { FeaturePusher } from "./push.ts";
import { FeatureReader } from "./reader.ts";
import { FeatureService } from "./service.ts";

export interface RunningFeatureServer {
  app: Service;
  informer: Informer;
  /** Stops the informer and closes the Cassandra connections (after the app has closed). */
  close(): Promise<void>;
}

/** Store read latency buckets: 0.1 ms to 1 s. */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export async function startFeatureServer(options: {
  config: FeatureServerConfig;
  client: KubeClient;
  log: Logger;
  registry?: Registry;
}): Promise<RunningFeatureServer> {
  const { config, client, log } = options;
  const registry = options.registry ?? new Registry();
  const informer = new Informer(client, FEATURE_GROUPS, {
    namespace: config.namespace,
    resyncPeriodMs: 0,
    silenceTimeoutMs: 150_000,
    watchTimeoutSeconds: 300,
    backoff: { baseMs: 200, maxMs: 10_000 },
    log,
  });
  informer.start();

  const cassandra = cassandraClient(config.cassandra);
  // Not awaited: the server starts while Cassandra is down, answers 503 until it is reachable.
  cassandra.connect().catch((err: unknown) => {
    log.warn({ err: String(err) }, "Could not connect to Cassandra yet; requests get 503 until it answers");
  });
  const storeSeconds = new Histogram({
    name: "feature_server_store_read_seconds",
    help: "Duration of the Cassandra reads of one request (all keys, concurrently)",
    labelNames: ["outcome"] as const,
    buckets: STORE_BUCKETS,
    registers: [registry],
  });
  const reader = new FeatureReader(cassandra, {
    pattern: config.readPattern,
    observe: (seconds, outcome) => storeSeconds.observe({ outcome }, seconds),
  });
  const groups = new GroupRegistry(
    {
      list: (namespace) => informer.list(namespace),
      get: (namespace, name) => informer.get(namespace, name),
    },
    cassandraTableColumns(cassandra),
  );
  const service = new FeatureService({ registry: groups, reader, maxKeys: config.maxKeys });
  const publisher = config.kafkaBrokers
    ? new KafkaPublisher({
        brokers: config.kafkaBrokers,
        clientId: "darwin-feature-server",
        sendTimeoutMs: config.pushTimeoutMs,
      })
    : undefined;
  const pusher = new FeaturePusher({ registry: groups, publisher, maxRows: config.maxPushRows });
  const auth = new KubeAuth({ client, cacheTtlMs: config.authCacheSeconds * 1000 });
  const offlineRoot = config.offlineStore.uri ? parseS3Uri(config.offlineStore.uri) : undefined;
  const s3 = offlineRoot ? s3Client(config.offlineStore.s3) : undefined;
  const app = await buildFeatureServer({
    service,
    pusher,
    groups,
    auth,
    logger: log,
    registry,
    ...(offlineRoot && s3 && { historical: { s3, root: offlineRoot } }),
    readiness: [
      {
        name: "featuregroups",
        check: () => ({ ok: informer.hasSynced, detail: "the FeatureGroup cache has not synced yet" }),
      },
    ],
  });
  return {
    app,
    informer,
    close: async () => {
      await informer.stop();
      await publisher?.close().catch(() => undefined);
      await cassandra.shutdown();
      s3?.destroy();
    },
  };
}
