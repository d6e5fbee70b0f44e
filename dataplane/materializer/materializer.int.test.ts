// @testbed control data

/**
 * Push and materializer against the real testbed: the FeatureGroup controller makes the table and topic,
 * rows are pushed over HTTP (Darwin's and Feast's shapes) or produced straight to the topic, the
 * materializer (in this process, in a consumer group of its own) writes them to Cassandra, and the feature
 * server reads them back.
 */
import type { Client as CassandraClient } from "cassandra-driver";
import { beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  createObject,
  getObject,
  testbedClient,
  testLogger,
  waitFor,
} from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  testStoreConfig,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { uniqueName, useTestbed } from "../../test-e2e/support/fixture.ts";
import { featureServerConfig } from "../feature-server/config.ts";
import { type RunningFeatureServer, startFeatureServer } from "../feature-server/server.ts";
import {
  brokers,
  produce,
  readColumn,
  readTopic,
  rowMessage,
  startTestMaterializer,
} from "../testing/materializer.ts";
import { DLQ_HEADERS } from "./materializer.ts";
import type { RunningMaterializer } from "./run.ts";

let client: KubeClient;
let ns: string;
let server: RunningFeatureServer;
let materializer: RunningMaterializer;
let cassandra: CassandraClient;
let admin: string;
let topic: string;

const T = (minute: number, second = 0) =>
  `2026-11-27T09:${String(minute).padStart(2, "0")}:${String(second).padStart(2, "0")}.000000Z`;
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

interface Answer {
  statusCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers of several routes, read field by field
  body: any;
}

async function post(path: string, body: unknown): Promise<Answer> {
  const response = await server.app.inject({
    method: "POST",
    url: `/namespaces/${ns}${path}`,
    headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
    payload: JSON.stringify(body),
  });
  let parsed: unknown;
  try {
    parsed = response.json();
  } catch {
    parsed = response.body;
  }
  return { statusCode: response.statusCode, body: parsed };
}

/** Waits until the table holds `expected` (user_id -> age) with the given event times. */
async function waitForAges(group: string, expected: Record<string, [number, string]>): Promise<void> {
  await waitFor(
    `rows of ${group} to converge`,
    async () => {
      const ages = await readColumn(cassandra, ns, group, 1, "user_id", "age");
      return Object.entries(expected).every(([id, [age, time]]) => {
        const got = ages.get(id);
        return got?.value === age && got.writeTime === micros(time);
      });
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

const tb = useTestbed({ namespace: "ingest-mat", cleanup: [FEATURE_GROUPS] });

beforeAll(async () => {
  client = tb.client;
  admin = adminToken();
  ns = tb.namespace;
  tb.defer(() => dropTestStores(ns));
  cassandra = testCassandra();
  tb.defer(() => cassandra.shutdown());
  const operator = await startFeatureGroupOperator(ns);
  tb.defer(() => operator.stop());
  const stores = testStoreConfig();
  server = await startFeatureServer({
    config: featureServerConfig.parse({
      authCacheSeconds: 1,
      cassandra: stores.cassandra,
      kafkaBrokers: brokers(),
    }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  await server.informer.waitForSync();
  await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(ns, { ttlSeconds: 0 }));
  await waitForReady(client, ns, "user-features");
  topic = topicName(ns, "user-features", 1);
  materializer = await startTestMaterializer(ns, uniqueName("ingest-mat"));
  tb.defer(() => materializer.close());
  await waitFor("the materializer to consume the group's topic", async () =>
    materializer.materializer.consumedTopics().includes(topic),
  );
}, 180_000);

describe("push and materializer", () => {
  it("converges out-of-order and duplicated pushes to the value of the latest event time", async () => {
    // user 1: the newest event (09:30, age 30) arrives first, then older ones and a duplicate of each.
    const darwin = await post("/feature-store/v1/features:push", {
      feature_group_name: "user_features",
      rows: [
        { user_id: 1, age: 30, tenure: 3, event_time: T(30) },
        { user_id: 1, age: 10, tenure: 1, event_time: T(10) },
        { user_id: 2, age: 21, event_time: T(21) },
        { user_id: 1, age: 30, tenure: 3, event_time: T(30) },
        { user_id: 1, age: 20, tenure: 2, event_time: T(20) },
      ],
    });
    expect(darwin.statusCode).toBe(202);
    expect(darwin.body).toEqual({ feature_group_name: "user_features", version: 1, topic, rows: 5 });
    // Feast's push shape, column-major with event_timestamp: older for user 2, newer for user 3.
    const feast = await post("/push", {
      push_source_name: "user_features",
      df: {
        user_id: [2, 3, 3],
        age: [5, 33, 32],
        event_timestamp: ["2026-11-27 09:05:00", "2026-11-27 09:33:00", "2026-11-27 09:32:00"],
        created: ["2026-11-27 09:40:00", "2026-11-27 09:40:00", "2026-11-27 09:40:00"],
      },
      to: "online",
    });
    expect(feast.statusCode).toBe(200);
    expect(feast.body).toBeNull();
    // The same rows produced again straight to the topic, in reverse order: a replay changes nothing.
    await produce(
      [
        { user_id: 1, age: 10, tenure: 1, event_time: T(10) },
        { user_id: 3, age: 32, event_time: T(32) },
        { user_id: 2, age: 5, event_time: T(5) },
      ].map((row) => rowMessage(topic, row)),
    );
    await waitForAges("user-features", { "1": [30, T(30)], "2": [21, T(21)], "3": [33, T(33)] });
    await waitFor(
      "every pushed message to be materialized",
      async () => materializer.materializer.counters.rows >= 11,
    );

    // The feature server serves the latest values, with their event times.
    const fetched = await post("/feature-store/v1/features:fetch", {
      feature_group_name: "user_features",
      feature_columns: ["age", "tenure"],
      primary_key_names: ["user_id"],
      primary_key_values: [[1], [2], [3]],
    });
    expect(fetched.statusCode).toBe(200);
    expect(fetched.body.rows.map((r: { values: unknown[] }) => r.values)).toEqual([
      [30, 3],
      [21, null],
      [33, null],
    ]);

    // Freshness and lag on the group's status, written by the materializer's own field manager.
    const status = await waitFor(
      "freshness and zero lag on the status",
      async () => {
        const object = await getObject(client, FEATURE_GROUPS, ns, "user-features");
        const s = object?.status as { lastWriteTime?: string; materialization?: { lag: number } } | undefined;
        return s?.lastWriteTime === T(33) && s.materialization?.lag === 0 ? object : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const managers = (status.metadata.managedFields ?? []).map(
      (f: { manager?: string; subresource?: string }) => [f.manager, f.subresource],
    );
    expect(managers).toContainEqual(["darwin-materializer", "status"]);
    const metrics = await materializer.registry.metrics();
    expect(metrics).toMatch(
      new RegExp(`materializer_partition_lag\\{topic="${topic.replaceAll(".", "\\.")}",partition="0"\\} 0`),
    );
    expect(metrics).toMatch(/materializer_rows_written_total\{[^}]*\} \d+/);
  });

  it("refuses bad pushes with a 4xx naming the row and field", async () => {
    const cases: Array<[string, unknown, RegExp, number?]> = [
      [
        "/feature-store/v1/features:push",
        { feature_group_name: "user_features", rows: [{ user_id: 1, age: "old", event_time: T(1) }] },
        /rows\[0\]\.age: must be an int32/,
      ],
      [
        "/feature-store/v1/features:push",
        { feature_group_name: "user_features", rows: [{ user_id: 1, age: 3 }] },
        /rows\[0\]\.event_time: missing/,
      ],
      [
        "/feature-store/v1/features:push",
        {
          feature_group_name: "user_features",
          rows: [
            { user_id: 1, age: 3, event_time: T(1) },
            { user_id: 2, height: 3, event_time: T(1) },
          ],
        },
        /rows\[1\]\.height: not a column/,
      ],
      [
        "/feature-store/v1/features:push",
        { feature_group_name: "nope", rows: [{ user_id: 1 }] },
        /"nope" does not exist/,
        404,
      ],
      [
        "/push",
        { push_source_name: "user_features", df: { user_id: [1, 2], age: [3] } },
        /df\.age has 1 value/,
      ],
      [
        "/push",
        { push_source_name: "user_features", df: { user_id: [1], age: [3] } },
        /df row 0\.event_time: missing/,
      ],
      [
        "/push",
        {
          push_source_name: "user_features",
          df: { user_id: [1], age: [3], event_timestamp: [T(1)] },
          to: "offline",
        },
        /"offline" is not supported/,
      ],
    ];
    for (const [path, body, message, status = 400] of cases) {
      const answer = await post(path, body);
      expect.soft(answer.statusCode, JSON.stringify(body)).toBe(status);
      expect.soft(answer.body?.error?.message, JSON.stringify(body)).toMatch(message);
    }
  });

  it("sends invalid messages to the dead-letter topic with their reasons and writes the valid ones around them", async () => {
    const valid = (id: number, age: number) => rowMessage(topic, { user_id: id, age, event_time: T(40) });
    await produce([
      valid(101, 1),
      { topic, key: "x", value: "{not json" },
      valid(102, 2),
      rowMessage(topic, { user_id: 103, age: "three", event_time: T(40) }),
      rowMessage(topic, { user_id: 104, height: 180, event_time: T(40) }),
      rowMessage(topic, { user_id: 105, age: 5 }),
      valid(106, 6),
    ]);
    await waitForAges("user-features", { "101": [1, T(40)], "102": [2, T(40)], "106": [6, T(40)] });
    const letters = await readTopic(`${topic}.dlq`, 4);
    // Each key has its partition, so dead letters come in partition order, not production order.
    const reasons = letters.map((l) => l.headers[DLQ_HEADERS.reason]);
    expect(reasons).toHaveLength(4);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not JSON/),
        expect.stringMatching(/message\.age: must be an int32.*"three"/),
        expect.stringMatching(/message\.height: not a column of the group/),
        expect.stringMatching(/message\.event_time: missing/),
      ]),
    );
    const three = letters.find((l) => l.value.includes('"three"'));
    expect(three?.headers[DLQ_HEADERS.topic]).toBe(topic);
    expect(three?.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
    const ages = await readColumn(cassandra, ns, "user-features", 1, "user_id", "age");
    expect(["103", "104", "105"].filter((id) => ages.has(id))).toEqual([]);
    expect(await materializer.registry.metrics()).toMatch(/materializer_dead_letters_total\{[^}]*\} 4/);
  });

  it("consumes a FeatureGroup created while it runs, without a restart", async () => {
    const sessions = sampleFeatureGroup(ns, { ttlSeconds: 0 });
    sessions.metadata.name = "sessions";
    await createObject(client, FEATURE_GROUPS, sessions);
    await waitForReady(client, ns, "sessions");
    const sessionsTopic = topicName(ns, "sessions", 1);
    await waitFor("the materializer to pick up the new topic", async () =>
      materializer.materializer.consumedTopics().includes(sessionsTopic),
    );
    const pushed = await post("/feature-store/v1/features:push", {
      feature_group_name: "sessions",
      rows: [{ user_id: 7, age: 70, event_time: T(50) }],
    });
    expect(pushed.statusCode).toBe(202);
    await waitForAges("sessions", { "7": [70, T(50)] });
  });
});
