/**
 * Materialization benchmark (prints figures, asserts nothing): rows/s from a feature topic into Cassandra.
 * BENCH_MESSAGES rows (distinct entities of the seed's user-features group, 3 partitions) are produced to
 * the topic first; then a materializer (in this process, the same code as cmd/materializer.ts) consumes
 * them and writes each with its event time as the write time, committing offsets after the writes. It
 * reports the overall rate and the median and p99 of the rate per second, with the machine's state. In the
 * same run, a bare cassandra-driver loop writes the same number of rows with the same INSERT (256 in
 * flight) into a second group's table: the store's own ceiling on this machine, and our ratio to it.
 * Needs the testbed's control plane, Kafka and Cassandra: node bench/materialization/run.ts
 */
import { keyspaceName, tableName, topicName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { insertCql } from "../../dataplane/materializer/cassandra-sink.ts";
import { formatEventTime } from "../../dataplane/shared/feature-row.ts";
import { produce, rowMessage, startTestMaterializer } from "../../dataplane/testing/materializer.ts";
import { createObject, testbedClient, testbedEnv } from "../../operator/testing/testbed.ts";
import {
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { createNamespace, deleteNamespace, uniqueName } from "../../test-e2e/support/fixture.ts";
import { percentile } from "../shared/kafka-perf.ts";
import { machine } from "../shared/machine.ts";

testbedEnv();
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const WINDOW_SECONDS = 5;

async function main(): Promise<void> {
  console.log(`machine: ${machine()}`);
  const client = testbedClient();
  const ns = await createNamespace(client, "bench-mat");
  const operator = await startFeatureGroupOperator(ns);
  try {
    await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(ns, { ttlSeconds: 0 }));
    await waitForReady(client, ns, "user-features");
    const topic = topicName(ns, "user-features", 1);
    const base = Date.now() * 1000 - MESSAGES * 1000;
    const t0 = performance.now();
    await produce(
      Array.from({ length: MESSAGES }, (_, i) =>
        rowMessage(topic, {
          user_id: i,
          age: i % 100,
          tenure: i / 7,
          activity_score: (i % 1000) / 1000,
          event_time: formatEventTime(BigInt(base + i * 1000)),
        }),
      ),
    );
    console.log(
      `produced ${MESSAGES} rows to ${topic} (3 partitions) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    // The bare driver first, on a table of its own (a second group), with the materializer's statement.
    const bare = sampleFeatureGroup(ns, { ttlSeconds: 0, stream: { enabled: false } });
    bare.metadata.name = "bare";
    await createObject(client, FEATURE_GROUPS, bare);
    await waitForReady(client, ns, "bare");
    const cassandra = testCassandra();
    const statement = insertCql(
      {
        namespace: ns,
        name: "bare",
        version: 1,
        keyspace: keyspaceName(ns),
        table: tableName("bare", 1),
        entities: [{ name: "user_id", type: "int64" }],
        features: [],
        ttlSeconds: 0,
        online: true,
      },
      ["age", "tenure", "activity_score"],
    );
    const tb = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < MESSAGES) {
          const i = next++;
          const micros = BigInt(base + i * 1000);
          await cassandra.execute(
            statement,
            [BigInt(i), i % 100, i / 7, (i % 1000) / 1000, new Date(Number(micros / 1000n)), micros],
            { prepare: true },
          );
        }
      }),
    );
    const bareRate = MESSAGES / ((performance.now() - tb) / 1000);
    await cassandra.shutdown();
    console.log(`bare cassandra-driver, same INSERT, 256 in flight: ${bareRate.toFixed(0)} rows/s`);

    const running = await startTestMaterializer(ns, uniqueName("bench-mat"));
    const counters = running.materializer.counters;
    const started = performance.now();
    const perWindow: number[] = [];
    let last = 0;
    while (counters.rows < MESSAGES) {
      await new Promise((resolve) => setTimeout(resolve, WINDOW_SECONDS * 1000));
      perWindow.push((counters.rows - last) / WINDOW_SECONDS);
      last = counters.rows;
      if (performance.now() - started > 600_000) break;
    }
    const seconds = (performance.now() - started) / 1000;
    await running.close();
    // The first and last windows are partial (start-up, tail).
    const steady = (perWindow.length > 2 ? perWindow.slice(1, -1) : perWindow).sort((a, b) => a - b);
    console.log(
      `\nmaterialization (${counters.rows} rows, ${counters.batches} batches, batch <= 2000, 256 writes in flight, offsets committed after each batch)`,
    );
    console.log(
      `  overall:              ${(counters.rows / seconds).toFixed(0)} rows/s (${seconds.toFixed(1)} s, including joining the group)`,
    );
    console.log(
      `  per ${WINDOW_SECONDS} s window:     median ${percentile(steady, 50).toFixed(0)} rows/s, p99 (slowest 1%) ${percentile(steady, 1).toFixed(0)} rows/s, best ${(steady.at(-1) ?? 0).toFixed(0)} rows/s`,
    );
    console.log(`  ratio to the bare driver: ${(counters.rows / seconds / bareRate).toFixed(2)}`);
    console.log(`machine after: ${machine()}`);
  } finally {
    await operator.stop();
    // Cassandra may be slow to drop a keyspace right after a write burst: try again once.
    await dropTestStores(ns).catch(() => dropTestStores(ns));
    await deleteNamespace(client, ns).catch(() => undefined);
    client.close();
  }
}

await main();
process.exit(0);
