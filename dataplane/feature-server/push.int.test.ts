// @testbed control data

/**
 * Pushes under concurrency against the real testbed: the FeatureGroup controller makes the groups' topics,
 * then many pushes at once go through the feature server to Kafka (several produce requests in flight).
 * What a client sees: every push answered 202 has its rows on the topic, a key's rows in the order they
 * were pushed; a push whose produce fails is answered 503 with Retry-After while pushes to another group
 * go on being answered 202.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { FeatureStores } from "../../controllers/feature-group/stores.ts";
import { createObject, testbedClient, testLogger, waitFor } from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testStoreConfig,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { brokers, readTopic } from "../testing/materializer.ts";
import { featureServerConfig } from "./config.ts";
import { type RunningFeatureServer, startFeatureServer } from "./server.ts";

const PUSH_TIMEOUT_MS = 3_000;

let ns: string;
let server: RunningFeatureServer;
let admin: string;

const tb = useTestbed({ namespace: "push-inflight", cleanup: [FEATURE_GROUPS] });

/** The group `name`: the seed's sample schema, its own topic (3 partitions). */
const group = (name: string) => {
  const sample = sampleFeatureGroup(ns, { ttlSeconds: 0 });
  return { ...sample, metadata: { ...sample.metadata, name } };
};

interface Answer {
  statusCode: number;
  retryAfter: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON answer, read field by field
  body: any;
}

async function push(groupName: string, rows: unknown[]): Promise<Answer> {
  const response = await server.app.inject({
    method: "POST",
    url: `/namespaces/${ns}/feature-store/v1/features:push`,
    headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
    payload: JSON.stringify({ feature_group_name: groupName, rows }),
  });
  const retryAfter = response.headers["retry-after"];
  return {
    statusCode: response.statusCode,
    retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
    body: response.json(),
  };
}

beforeAll(async () => {
  admin = adminToken();
  ns = tb.namespace;
  // A second try: on a busy machine Cassandra can take longer than the driver waits to drop a keyspace.
  tb.defer(() => dropTestStores(ns).catch(() => dropTestStores(ns)));
  const operator = await startFeatureGroupOperator(ns);
  try {
    for (const name of ["ordered-features", "healthy-features", "gone-features"]) {
      await createObject(tb.client, FEATURE_GROUPS, group(name));
    }
    for (const name of ["ordered-features", "healthy-features", "gone-features"]) {
      await waitForReady(tb.client, ns, name);
    }
  } finally {
    // Nothing here needs the controller once the topics exist; stopped, it cannot make a deleted topic again.
    await operator.stop();
  }
  server = await startFeatureServer({
    config: featureServerConfig.parse({
      cassandra: testStoreConfig().cassandra,
      kafkaBrokers: brokers(),
      pushTimeoutMs: PUSH_TIMEOUT_MS,
    }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  await server.informer.waitForSync();
}, 180_000);

describe("concurrent pushes", () => {
  it("answers 202 to every push and puts every row on the topic once, a key's rows in the order they were pushed", async () => {
    // 16 clients push at once, each 8 times in a row (the next push once the last was answered); a client's
    // push holds its 25 keys twice, so a key's rows come in one push (in row order) and across pushes.
    const CLIENTS = 16;
    const PUSHES = 8;
    const KEYS = 25;
    const base = Date.now() - 3_600_000;
    const answers = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const statuses: number[] = [];
        for (let p = 0; p < PUSHES; p++) {
          const rows = Array.from({ length: 2 * KEYS }, (_, j) => {
            const sequence = 2 * p + (j < KEYS ? 0 : 1);
            return {
              user_id: client * 1000 + (j % KEYS),
              age: sequence,
              event_time: new Date(base + sequence * 1000).toISOString(),
            };
          });
          const answer = await push("ordered_features", rows);
          expect.soft(answer.body, `client ${client} push ${p}`).toMatchObject({ rows: 2 * KEYS });
          statuses.push(answer.statusCode);
        }
        return statuses;
      }),
    );
    expect(answers.flat()).toEqual(Array(CLIENTS * PUSHES).fill(202));

    const messages = await readTopic(topicName(ns, "ordered-features", 1), CLIENTS * PUSHES * 2 * KEYS);
    expect(messages).toHaveLength(CLIENTS * PUSHES * 2 * KEYS);
    const agesByKey = new Map<string, number[]>();
    for (const message of messages) {
      const row = JSON.parse(message.value) as { user_id: number; age: number };
      expect(message.key).toBe(JSON.stringify([row.user_id]));
      agesByKey.set(message.key, [...(agesByKey.get(message.key) ?? []), row.age]);
    }
    expect(agesByKey.size).toBe(CLIENTS * KEYS);
    const inOrder = Array.from({ length: 2 * PUSHES }, (_, i) => i);
    for (const [key, ages] of agesByKey) expect(ages, `rows of key ${key}`).toEqual(inOrder);
  });

  it("answers 503 with Retry-After to the pushes whose produce failed, and 202 to pushes to another group meanwhile", async () => {
    const stores = new FeatureStores(testStoreConfig());
    const gone = topicName(ns, "gone-features", 1);
    try {
      await stores.deleteTopics([gone]);
      await waitFor(
        `topic ${gone} to be deleted`,
        async () => !(await stores.topicsWithPrefix(gone)).includes(gone),
      );
    } finally {
      await stores.close();
    }
    const row = (id: number) => ({ user_id: id, age: id % 100, event_time: new Date().toISOString() });
    const rows = (from: number) => Array.from({ length: 20 }, (_, i) => row(from + i));
    // Pushes to the group without a topic wait for Kafka until the push timeout; pushes to the healthy group
    // go on meanwhile, 6 clients one push after another for as long as the failing ones take.
    const failing = Promise.all(Array.from({ length: 3 }, (_, i) => push("gone_features", rows(i * 100))));
    let done = false;
    const healthy = Promise.all(
      Array.from({ length: 6 }, async (_, client) => {
        const answers: Answer[] = [];
        for (let p = 0; !done || p < 3; p++)
          answers.push(await push("healthy_features", rows(client * 1000 + p)));
        return answers;
      }),
    );
    const failed = await failing;
    done = true;
    const succeeded = (await healthy).flat();

    for (const answer of failed) {
      expect(answer.statusCode).toBe(503);
      expect(answer.retryAfter).toBe("2");
      expect(answer.body.error).toMatchObject({ code: "KAFKA_UNAVAILABLE" });
      expect(answer.body.error.message).toMatch(/Kafka did not acknowledge/);
    }
    expect(succeeded.length).toBeGreaterThanOrEqual(18);
    expect(succeeded.map((a) => a.statusCode)).toEqual(Array(succeeded.length).fill(202));
  });
});
