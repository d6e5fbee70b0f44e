/**
 * Push benchmark (prints figures, asserts nothing): rows/s pushed over HTTP to the feature server's
 * `features:push` (authentication on, rows checked against the schema, 202 only after Kafka acknowledged
 * them with acks=all from an idempotent producer), on several keep-alive connections for BENCH_SECONDS;
 * then, in the same run, Kafka's own ProducerPerformance writing records of the same size with the same
 * producer settings to a topic with the same partitions (3). The ratio is HTTP rows/s over perf-test
 * records/s. Needs the testbed's control plane, Kafka and Cassandra: node bench/push/run.ts
 */
import http from "node:http";
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

testbedEnv();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

const row = (i: number) => ({
  user_id: i,
  age: i % 100,
  tenure: i / 7,
  activity_score: (i % 1000) / 1000,
  event_time: new Date(Date.now() - 60_000).toISOString(),
});

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
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const post = (body: string) =>
      new Promise<void>((resolve, reject) => {
        const request = http.request(
          {
            agent,
            host: "127.0.0.1",
            port,
            method: "POST",
            path: `/namespaces/${ns}/feature-store/v1/features:push`,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          },
          (response) => {
            let text = "";
            response.on("data", (chunk) => {
              text += chunk;
            });
            response.on("end", () =>
              response.statusCode === 202
                ? resolve()
                : reject(new Error(`HTTP ${response.statusCode}: ${text}`)),
            );
          },
        );
        request.on("error", reject);
        request.end(body);
      });
    let next = 0;
    let acknowledged = 0;
    const latencies: number[] = [];
    const deadline = Date.now() + SECONDS * 1000;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < deadline) {
          const rows = Array.from({ length: BATCH }, () => row(next++));
          const t0 = performance.now();
          await post(JSON.stringify({ feature_group_name: "user_features", rows }));
          latencies.push(performance.now() - t0);
          acknowledged += BATCH;
        }
      }),
    );
    const rowsPerSecond = acknowledged / ((performance.now() - started) / 1000);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerRow = (cpu.user + cpu.system) / acknowledged;
    agent.destroy();
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
      `  CPU of this process (server and load): ${cpuPerRow.toFixed(2)} µs per row, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in all`,
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
