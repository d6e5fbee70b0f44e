/**
 * Chronos ingestion and lineage benchmark (prints figures, asserts nothing):
 *  1. events/s posted over HTTP to the Chronos API (batches, several connections; auth on, Kafka acks=all
 *     with an idempotent producer), against Kafka's own ProducerPerformance tool writing records of the same
 *     size with the same producer settings to a topic with the same partitions, in the same run;
 *  2. lineage query latency (p50, p99) at depth 3 over 100k relationships in MariaDB.
 * Needs the testbed's control and data tiers: node bench/chronos-ingest/run.ts
 */
import http from "node:http";
import os from "node:os";
import { Admin } from "@platformatic/kafka";
import mysql from "mysql2/promise";
import { Registry } from "prom-client";
import { dlqTopic, EventPublisher, ensureTopics } from "../../dataplane/chronos/kafka.ts";
import { CHRONOS_MIGRATIONS } from "../../dataplane/chronos/migrations.ts";
import { buildChronosService } from "../../dataplane/chronos/service.ts";
import { lineage } from "../../dataplane/chronos/store.ts";
import { createPool, migrate, type Pool } from "../../dataplane/shared/mysql.ts";
import { KubeAuth, listenService } from "../../operator/http/index.ts";
import { KubeClient } from "../../operator/kube-client.ts";
import { loadKubeAccess } from "../../operator/kubeconfig.ts";
import { silentLogger } from "../../operator/logger.ts";
import { loadTestbedEnv } from "../../test-e2e/support/testbed-env.ts";
import { kafkaPerfTest, percentile } from "../shared/kafka-perf.ts";

const env = { ...loadTestbedEnv(), ...process.env } as Record<string, string>;
const SECONDS = Number(env.BENCH_SECONDS ?? 20);
const BATCH = Number(env.BENCH_BATCH ?? 100);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 8);
const PARTITIONS = 3;
const RELATIONSHIPS = 100_000;
const QUERIES = Number(env.BENCH_QUERIES ?? 500);
const run = Date.now().toString(36);

function sampleEvent(i: number) {
  return {
    id: `bench-${run}-${i}`,
    namespace: "bench",
    // Events are keyed by namespace and source: 30 sources spread them over the partitions.
    source: `bench-source-${i % 30}`,
    type: "cluster_ready",
    payload: {
      cluster_id: `cluster-${i % 1000}`,
      user: `user-${i % 50}@example.com`,
      phase: "Ready",
      cores: 4,
    },
  };
}

/** POSTs batches on `connections` keep-alive connections for `seconds`; acknowledged events per second. */
async function httpIngest(
  port: number,
  token: string,
): Promise<{ eventsPerSecond: number; requests: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let next = 0;
  let acknowledged = 0;
  const latencies: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          agent,
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/chronos/api/v1/events",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        },
        (response) => {
          let text = "";
          response.on("data", (chunk) => {
            text += chunk;
          });
          response.on("end", () =>
            response.statusCode === 202
              ? resolve(202)
              : reject(new Error(`HTTP ${response.statusCode}: ${text}`)),
          );
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < deadline) {
        const events = Array.from({ length: BATCH }, () => sampleEvent(next++));
        const t0 = performance.now();
        await post(JSON.stringify({ events }));
        latencies.push(performance.now() - t0);
        acknowledged += BATCH;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { eventsPerSecond: acknowledged / elapsed, requests: latencies.sort((a, b) => a - b) };
}

/** A layered graph of 100k relationships: 25k entities, each with 4 edges into the next layer. */
async function seedGraph(pool: Pool): Promise<number> {
  const entities = RELATIONSHIPS / 4;
  const layer = 2_500;
  for (let i = 0; i < entities; i += 5_000) {
    const rows = Array.from({ length: Math.min(5_000, entities - i) }, (_, k) => [
      "bench",
      "node",
      `n-${i + k}`,
      "{}",
      "seed",
      "seed",
    ]);
    await pool.query(
      "INSERT INTO chronos_entities (namespace, type, id, attributes, first_event_id, last_event_id) VALUES ?",
      [rows],
    );
  }
  const [[first]] = (await pool.query("SELECT MIN(pk) AS pk FROM chronos_entities")) as unknown as [
    [{ pk: number }],
  ];
  const base = Number(first.pk);
  let edges: unknown[][] = [];
  for (let i = 0; i < entities; i++) {
    const nextLayer = (Math.floor(i / layer) + 1) * layer;
    for (let e = 0; e < 4; e++) {
      const target = (nextLayer + Math.floor(Math.random() * layer)) % entities;
      edges.push(["bench", base + i, `link-${e}`, base + target, "{}", "seed", "seed"]);
    }
    if (edges.length >= 5_000) {
      await insertEdges(pool, edges);
      edges = [];
    }
  }
  if (edges.length) await insertEdges(pool, edges);
  return entities;
}

async function insertEdges(pool: Pool, rows: unknown[][]): Promise<void> {
  await pool.query(
    `INSERT IGNORE INTO chronos_relationships (namespace, from_pk, type, to_pk, attributes, first_event_id, last_event_id)
     VALUES ?`,
    [rows],
  );
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const brokers = (env.DARWIN_KAFKA_BROKERS ?? "").split(",");
  const admin = await mysql.createConnection(env.DARWIN_MYSQL_URL ?? "");
  const database = `bench_chronos_${run}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const pool = createPool((env.DARWIN_MYSQL_URL ?? "").replace(/\/[^/]*$/, `/${database}`), 8);
  try {
    await migrate(pool, "chronos", CHRONOS_MIGRATIONS);

    // 1. ingestion
    const kafka = {
      brokers,
      clientId: "bench",
      topic: `bench-chronos-${run}`,
      partitions: PARTITIONS,
      sendTimeoutMs: 10_000,
    };
    await ensureTopics(kafka);
    const publisher = new EventPublisher(kafka);
    const client = KubeClient.load({ kubeconfig: env.KUBECONFIG });
    const app = await buildChronosService({
      pool,
      publisher,
      auth: new KubeAuth({ client }),
      logger: silentLogger(),
      registry: new Registry(),
      maxBatch: 1000,
    });
    const port = await listenService(app, 0, "127.0.0.1");
    const access = loadKubeAccess({ kubeconfig: env.KUBECONFIG });
    const token = access.token?.type === "static" ? access.token.token : "";
    const recordSize = JSON.stringify({
      ...sampleEvent(123456),
      time: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    }).length;
    const ingest = await httpIngest(port, token);
    await app.close();
    await publisher.close();
    client.close();

    const perfTopic = `bench-perf-${run}`;
    await ensureTopics({ ...kafka, topic: perfTopic });
    const perf = kafkaPerfTest(
      env.DARWIN_KAFKA_BROKERS ?? "",
      perfTopic,
      Math.max(50_000, Math.round(ingest.eventsPerSecond * SECONDS)),
      recordSize,
    );
    console.log(
      `\ningestion (${SECONDS} s, ${CONNECTIONS} connections, ${BATCH} events per request, ${recordSize}-byte events, ${PARTITIONS} partitions, acks=all, idempotent)`,
    );
    console.log(`  Chronos HTTP -> Kafka:        ${ingest.eventsPerSecond.toFixed(0)} events/s`);
    console.log(
      `  request latency (${BATCH} events): median ${percentile(ingest.requests, 50).toFixed(1)} ms, p99 ${percentile(ingest.requests, 99).toFixed(1)} ms`,
    );
    console.log(
      `  kafka-producer-perf-test:     ${perf.recordsPerSecond.toFixed(0)} records/s  (${perf.line})`,
    );
    console.log(
      `  ratio:                        ${(ingest.eventsPerSecond / perf.recordsPerSecond).toFixed(2)}`,
    );

    // 2. lineage
    const t0 = performance.now();
    const entities = await seedGraph(pool);
    const [[counted]] = (await pool.query("SELECT COUNT(*) AS n FROM chronos_relationships")) as unknown as [
      [{ n: number }],
    ];
    console.log(
      `\nlineage: ${counted.n} relationships among ${entities} entities seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    for (const direction of ["downstream", "upstream", "both"] as const) {
      const latencies: number[] = [];
      let nodes = 0;
      for (let q = 0; q < QUERIES; q++) {
        const id = `n-${Math.floor(Math.random() * entities)}`;
        const started = performance.now();
        const graph = await lineage(
          pool,
          "bench",
          { type: "node", id },
          { direction, depth: 3, maxNodes: 1000 },
        );
        latencies.push(performance.now() - started);
        nodes += graph?.nodes.length ?? 0;
      }
      latencies.sort((a, b) => a - b);
      console.log(
        `  depth 3 ${direction.padEnd(10)} ${QUERIES} queries: median ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, ${(nodes / QUERIES).toFixed(0)} nodes on average`,
      );
    }
  } finally {
    const kafkaAdmin = new Admin({ clientId: "bench", bootstrapBrokers: brokers });
    const topics = [`bench-chronos-${run}`, `bench-perf-${run}`].flatMap((t) => [t, dlqTopic(t)]);
    await kafkaAdmin.deleteTopics({ topics }).catch(() => undefined);
    await kafkaAdmin.close();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  }
}

await main();
process.exit(0);
