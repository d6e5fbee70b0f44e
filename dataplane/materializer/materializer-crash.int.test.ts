// @testbed control data

/**
 * The materializer killed with SIGKILL in the middle of 100 000 messages and started again: every message
 * Kafka acknowledged ends up in Cassandra, and each entity's value and write time equal a reference
 * computed here from the produced messages (the latest event time wins). The materializer runs as its own
 * process (`node cmd/materializer.ts`), so the kill is a real one: no shutdown hook, no final commit.
 */
import type { ChildProcess } from "node:child_process";
import type { Client as CassandraClient } from "cassandra-driver";
import { beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { createObject, waitFor } from "../../operator/testing/testbed.ts";
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
  spawnMaterializer,
} from "../testing/materializer.ts";

const MESSAGES = 100_000;
const ENTITIES = 25_000;

const tb = useTestbed({ namespace: "ingest-crash", cleanup: [FEATURE_GROUPS] });
let ns: string;
let cassandra: CassandraClient;
let child: ChildProcess | undefined;

beforeAll(async () => {
  ns = tb.namespace;
  tb.defer(() => dropTestStores(ns));
  cassandra = testCassandra();
  tb.defer(() => cassandra.shutdown());
  const operator = await startFeatureGroupOperator(ns);
  tb.defer(() => operator.stop());
  tb.defer(() => child?.kill("SIGKILL"));
  await createObject(tb.client, FEATURE_GROUPS, sampleFeatureGroup(ns, { ttlSeconds: 0 }));
  await waitForReady(tb.client, ns, "user-features");
}, 180_000);

/** A seeded PRNG, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("materializer crash", () => {
  it("loses nothing Kafka acknowledged when killed with SIGKILL mid-stream and restarted", {
    timeout: 600_000,
  }, async () => {
    const topic = topicName(ns, "user-features", 1);
    const random = seeded(20261127);
    // Four messages per entity with distinct event times, shuffled: arrival order says nothing of event order.
    const base = Date.parse("2026-11-27T00:00:00Z") * 1000;
    const messages: OutgoingMessage[] = [];
    const reference = new Map<string, { age: number; micros: bigint }>();
    for (let m = 0; m < MESSAGES; m++) {
      const id = m % ENTITIES;
      const micros = BigInt(base + m * 1000 + Math.floor(random() * 1000));
      const age = Math.floor(random() * 100);
      messages.push(rowMessage(topic, { user_id: id, age, event_time: formatEventTime(micros) }));
      const best = reference.get(String(id));
      if (!best || micros > best.micros) reference.set(String(id), { age, micros });
    }
    for (let i = messages.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [messages[i], messages[j]] = [messages[j] as OutgoingMessage, messages[i] as OutgoingMessage];
    }

    const groupId = uniqueName("ingest-crash");
    child = spawnMaterializer(ns, groupId);
    const produced = produce(messages);
    // Killed once it has committed part of the stream but well before the end.
    const atKill = await waitFor(
      "the materializer to commit part of the stream",
      async () => {
        const done = await committedOffsets(groupId, topic);
        return done >= 20_000 ? done : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 100 },
    );
    child.kill("SIGKILL");
    await new Promise((resolve) => child?.once("exit", resolve));
    await produced;
    expect(atKill).toBeLessThan(MESSAGES);

    child = spawnMaterializer(ns, groupId);
    await waitFor(
      "the restarted materializer to commit every message",
      async () => (await committedOffsets(groupId, topic)) === MESSAGES,
      { timeoutMs: 300_000, intervalMs: 500 },
    );
    const stored = await readColumn(cassandra, ns, "user-features", 1, "user_id", "age");
    expect(stored.size).toBe(ENTITIES);
    const wrong = [...reference].filter(([id, want]) => {
      const got = stored.get(id);
      return got?.value !== want.age || got.writeTime !== want.micros;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
