// @testbed control data

/**
 * The materializer through a Kafka broker restart and a Cassandra restart while it consumes: it resumes by
 * itself, and every message Kafka acknowledged is in Cassandra with the value of its latest event time.
 *
 * This restarts the SHARED data tier's Kafka and Cassandra: run it on its own, never in a testbed slot,
 * when nobody else depends on the data tier (`npx vitest run --project integration
 * dataplane/materializer/materializer-restarts.int.test.ts`).
 */
import type { Client as CassandraClient } from "cassandra-driver";
import { beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { createObject, testbed, waitFor } from "../../operator/testing/testbed.ts";
import {
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { uniqueName, useTestbed } from "../../test-e2e/support/fixture.ts";
import { formatEventTime } from "../shared/feature-row.ts";
import type { OutgoingMessage } from "../shared/kafka.ts";
import {
  committedOffsets,
  produce,
  readColumn,
  rowMessage,
  startTestMaterializer,
} from "../testing/materializer.ts";
import type { RunningMaterializer } from "./run.ts";

const ENTITIES = 2_000;

const tb = useTestbed({ namespace: "ingest-restart", cleanup: [FEATURE_GROUPS] });
let ns: string;
let materializer: RunningMaterializer | undefined;

beforeAll(async () => {
  ns = tb.namespace;
  // Cassandra may be slow to drop a keyspace right after its restart: try again once.
  tb.defer(() => dropTestStores(ns).catch(() => dropTestStores(ns)));
  const operator = await startFeatureGroupOperator(ns);
  tb.defer(() => operator.stop());
  tb.defer(() => materializer?.close());
  await createObject(tb.client, FEATURE_GROUPS, sampleFeatureGroup(ns, { ttlSeconds: 0 }));
  await waitForReady(tb.client, ns, "user-features");
}, 180_000);

describe("materializer restarts", () => {
  it("resumes after a Kafka broker restart and a Cassandra restart and loses nothing", {
    timeout: 900_000,
  }, async () => {
    const topic = topicName(ns, "user-features", 1);
    const reference = new Map<string, { age: number; micros: bigint }>();
    const base = Date.parse("2026-11-27T00:00:00Z") * 1000;
    let sent = 0;
    /** `count` messages over the entities, newer event times than any before; recorded once acknowledged. */
    const wave = async (count: number) => {
      const messages: OutgoingMessage[] = [];
      const rows: Array<[string, number, bigint]> = [];
      for (let i = 0; i < count; i++, sent++) {
        const id = String(sent % ENTITIES);
        const micros = BigInt(base + sent * 1000);
        const age = sent % 97;
        messages.push(rowMessage(topic, { user_id: Number(id), age, event_time: formatEventTime(micros) }));
        rows.push([id, age, micros]);
      }
      await produce(messages);
      for (const [id, age, micros] of rows) reference.set(id, { age, micros });
    };

    const groupId = uniqueName("ingest-restart");
    await wave(5_000);
    materializer = await startTestMaterializer(ns, groupId);
    const counters = materializer.materializer.counters;
    await waitFor("the materializer to write part of the first wave", async () => counters.rows >= 500, {
      timeoutMs: 120_000,
    });

    // Kafka goes away while the materializer consumes, and comes back.
    testbed("stop", "kafka");
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      testbed("up", "kafka");
    }
    await wave(5_000);

    // Cassandra goes away while there is work to do: the batch in flight waits and is retried.
    const retriesBefore = counters.retries;
    testbed("stop", "cassandra");
    try {
      await waitFor(
        "a batch to fail on the stopped Cassandra",
        async () => counters.retries > retriesBefore,
        {
          timeoutMs: 120_000,
          intervalMs: 200,
        },
      );
    } finally {
      testbed("up", "cassandra");
    }
    await wave(2_000);

    await waitFor(
      "every acknowledged message to be committed",
      async () => (await committedOffsets(groupId, topic).catch(() => 0)) === sent,
      { timeoutMs: 600_000, intervalMs: 1000 },
    );
    const cassandra: CassandraClient = testCassandra();
    try {
      // A node just restarted under load may fail a whole-table read: read again until one succeeds.
      const stored = await waitFor(
        "the table to be readable",
        async () => readColumn(cassandra, ns, "user-features", 1, "user_id", "age").catch(() => undefined),
        { timeoutMs: 180_000, intervalMs: 2000 },
      );
      expect(stored.size).toBe(ENTITIES);
      const wrong = [...reference].filter(([id, want]) => {
        const got = stored.get(id);
        return got?.value !== want.age || got.writeTime !== want.micros;
      });
      expect(wrong.slice(0, 5)).toEqual([]);
    } finally {
      await cassandra.shutdown();
    }
  });
});
