// @testbed data

/**
 * The shared publisher on the testbed's Kafka, as its callers (the push and ingest APIs) use it: many
 * publish calls at once, several produce requests in flight.
 */
import { Admin } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../../test-e2e/support/fixture.ts";
import { brokers, readTopic } from "../testing/materializer.ts";
import { KafkaPublisher, type OutgoingMessage } from "./kafka.ts";

let admin: Admin;
let topic: string;

beforeAll(async () => {
  admin = new Admin({ clientId: "publisher-test", bootstrapBrokers: brokers() });
  topic = uniqueName("publisher-order");
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
});

describe("KafkaPublisher", () => {
  it("writes a key's messages in the order publish was called while many calls are in flight at once", async () => {
    // 300 calls made at once, each with 5 messages of 7 shared keys and 5 of keys of its own: the calls
    // with a shared key in flight wait, the others go ahead on the other producers.
    const CALLS = 300;
    const publisher = new KafkaPublisher({
      brokers: brokers(),
      clientId: "publisher-test",
      sendTimeoutMs: 30_000,
    });
    try {
      const calls = Array.from({ length: CALLS }, (_, call) => {
        const messages: OutgoingMessage[] = [];
        for (let j = 0; j < 5; j++) {
          messages.push({ topic, key: `shared-${(call + j) % 7}`, value: JSON.stringify([call, j]) });
          messages.push({ topic, key: `own-${call}-${j}`, value: JSON.stringify([call, j]) });
        }
        return publisher.publish(messages);
      });
      await Promise.all(calls);
    } finally {
      await publisher.close();
    }

    const messages = await readTopic(topic, CALLS * 10);
    expect(messages).toHaveLength(CALLS * 10);
    const byKey = new Map<string, Array<[number, number]>>();
    for (const m of messages) byKey.set(m.key, [...(byKey.get(m.key) ?? []), JSON.parse(m.value)]);
    expect(byKey.size).toBe(7 + CALLS * 5);
    for (let k = 0; k < 7; k++) {
      const written = byKey.get(`shared-${k}`) ?? [];
      const called = [...written].sort(([a, i], [b, j]) => a - b || i - j);
      expect(written, `messages of shared-${k}`).toEqual(called);
      expect(written.length).toBeGreaterThan(200);
    }
  });
});
