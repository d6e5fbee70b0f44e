/**
 * Push benchmark (prints figures, asserts nothing): rows/s pushed over HTTP to the feature server's
 * `features:push` (authentication on, rows checked against the schema, 202 only after Kafka acknowledged
 * them with acks=all from an idempotent producer), on several keep-alive connections for BENCH_SECONDS;
 * then, in the same run, Kafka's own ProducerPerformance writing records of the same size with the same
 * producer settings to a topic with the same partitions (3). The ratio is HTTP rows/s over perf-test
 * records/s. The load comes from a worker thread (load.ts), so that it does not share the server's event
 * loop; the CPU of each is printed. Needs the testbed's control plane, Kafka and Cassandra:
 * node bench/push/run.ts
 */
import { Worker } from "node:worker_threads";
import { Admin } from "@platformatic/kafka";
import { topicName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { featureServerConfig } from "../../dataplane/feature-server/config.ts";
import { startFeatureServer } from "../../dataplane/feature-server/server.ts";
import { brokers } from "../../dataplane/testing/materializer.ts";
import { listenService } from "../../operator/http/index.ts";
import { silentLogger } from "../../operator/logger.ts";
import { createObject, testbedClient, testbedEnv } from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testStoreConfig,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { createNamespace, deleteNamespace } from "../../test-e2e/support/fixture.ts";
import { kafkaPerfTest, percentile } from "../shared/kafka-perf.ts";
import { machine } from "../shared/machine.ts";
import type { LoadInput, LoadResult } from "./load.ts";
import { row } from "./rows.ts";

testbedEnv();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

async function main(): Promise<void> {
  console.log(`machine: ${machine()}`);
  const client = testbedClient();
  const ns = await createNamespace(client, "bench-push");
  const operator = await startFeatureGroupOperator(ns);
  const admin = new Admin({ clientId: "bench-push", bootstrapBrokers: brokers() });
  const perfTopic = `bench-push-perf-${Date.now().toString(36)}`;
  try {
    await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(ns, { ttlSeconds: 0 }));
    await waitForReady(client, ns, "user-features");
    const server = await startFeatureServer({
      config: featureServerConfig.parse({ cassandra: testStoreConfig().cassandra, kafkaBrokers: brokers() }),
      client: testbedClient("darwin-feature-server"),
      log: silentLogger(),
    });
    await server.informer.waitForSync();
    const port = await listenService(server.app, 0, "127.0.0.1");
    const token = adminToken();
    const input: LoadInput = {
      port,
      path: `/namespaces/${ns}/feature-store/v1/features:push`,
      token,
      seconds: SECONDS,
      batch: BATCH,
      connections: CONNECTIONS,
    };
    const serverCpuBefore = process.threadCpuUsage();
    const load = await new Promise<LoadResult>((resolve, reject) => {
      const worker = new Worker(new URL("./load.ts", import.meta.url), { workerData: input });
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) =>
        reject(new Error(`the load generator exited (${code}) without a result`)),
      );
    });
    const serverCpu = process.threadCpuUsage(serverCpuBefore);
    const { acknowledged } = load;
    const latencies = load.latencies;
    const rowsPerSecond = acknowledged / (load.elapsedMs / 1000);
    const serverMicros = serverCpu.user + serverCpu.system;
    await server.app.close();
    await server.close();
    latencies.sort((a, b) => a - b);

    // A row as it is on the topic (event_time rewritten with microseconds).
    const recordSize = JSON.stringify({ ...row(123456), event_time: "2026-11-27T10:00:00.000000Z" }).length;
    await admin.createTopics({ topics: [perfTopic], partitions: 3, replicas: 1 });
    const perf = kafkaPerfTest(
      brokers().join(","),
      perfTopic,
      Math.max(50_000, Math.round(rowsPerSecond * SECONDS)),
      recordSize,
    );
    console.log(
      `\npush (${SECONDS} s, ${CONNECTIONS} connections, ${BATCH} rows per request, ${recordSize}-byte rows, topic ${topicName(ns, "user-features", 1)} with 3 partitions, acks=all, idempotent)`,
    );
    console.log(`  HTTP push -> Kafka:           ${rowsPerSecond.toFixed(0)} rows/s`);
    console.log(
      `  request latency (${BATCH} rows): median ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    );
    console.log(
      `  CPU of the server's thread: ${(serverMicros / acknowledged).toFixed(2)} µs per row, ${(serverMicros / 1e6).toFixed(1)} s in all; of the load generator's: ${(load.cpuMicros / 1e6).toFixed(1)} s`,
    );
    console.log(
      `  kafka-producer-perf-test:     ${perf.recordsPerSecond.toFixed(0)} records/s  (${perf.line})`,
    );
    console.log(`  ratio:                        ${(rowsPerSecond / perf.recordsPerSecond).toFixed(2)}`);
    console.log(`machine after: ${machine()}`);
  } finally {
    await admin.deleteTopics({ topics: [perfTopic] }).catch(() => undefined);
    await admin.close();
    await operator.stop();
    await dropTestStores(ns).catch(() => dropTestStores(ns));
    await deleteNamespace(client, ns).catch(() => undefined);
    client.close();
  }
}

await main();
process.exit(0);
