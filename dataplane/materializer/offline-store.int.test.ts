// @testbed control data

/**
 * Pushed rows reach the offline store: rows pushed over HTTP to the real feature server go through Kafka to
 * the materializer, which writes them to Cassandra and, buffered, as Parquet to the testbed's S3; the
 * feature server's historical-features route then answers point-in-time correct from those files. The
 * materializer commits a row's offset only once its file is written (the group's lag stays until then),
 * writes what it holds when it stops, and materializes a group kept offline only (spec.online.enabled
 * false), which the online routes refuse.
 */
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
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
  testStoreConfig,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { uniqueName, useTestbed } from "../../test-e2e/support/fixture.ts";
import { s3Endpoint } from "../../test-e2e/testbed/env.ts";
import { featureServerConfig } from "../feature-server/config.ts";
import { type RunningFeatureServer, startFeatureServer } from "../feature-server/server.ts";
import { listKeys, s3Client } from "../offline-store/s3.ts";
import { seeded } from "../populator/sample-data.ts";
import { brokers, startTestMaterializer } from "../testing/materializer.ts";
import { deleteTestBucket } from "../testing/s3.ts";
import type { RunningMaterializer } from "./run.ts";

const tb = useTestbed({ namespace: "ingest-offline", cleanup: [FEATURE_GROUPS] });
let client: KubeClient;
let ns: string;
let server: RunningFeatureServer;
let materializer: RunningMaterializer | undefined;
let s3: S3Client;
let bucket: string;
let groupId: string;

const OFFLINE_ONLY = "offline-users";
const T = (hour: number, minute = 0) =>
  `2026-11-20T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00.000000Z`;

interface Answer {
  statusCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers of several routes, read field by field
  body: any;
}

async function post(path: string, body: unknown): Promise<Answer> {
  const response = await server.app.inject({
    method: "POST",
    url: `/namespaces/${ns}${path}`,
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken()}` },
    payload: JSON.stringify(body),
  });
  return { statusCode: response.statusCode, body: response.json() };
}

const offlineStore = (flushMs: number) => ({
  uri: `s3://${bucket}/offline`,
  s3: s3Endpoint(),
  flushMs,
  flushRows: 1_000_000,
});

/** The group's lag on its status, as the materializer last wrote it. */
async function lag(name: string): Promise<number | undefined> {
  const object = await getObject(client, FEATURE_GROUPS, ns, name);
  return (object?.status as { materialization?: { lag?: number } } | undefined)?.materialization?.lag;
}

beforeAll(async () => {
  client = tb.client;
  ns = tb.namespace;
  tb.defer(() => dropTestStores(ns));
  const operator = await startFeatureGroupOperator(ns);
  tb.defer(() => operator.stop());
  s3 = s3Client({ ...s3Endpoint(), forcePathStyle: true });
  tb.defer(() => s3.destroy());
  bucket = `ingest-offline-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  tb.defer(() => deleteTestBucket(s3, bucket));
  server = await startFeatureServer({
    config: featureServerConfig.parse({
      authCacheSeconds: 1,
      cassandra: testStoreConfig().cassandra,
      kafkaBrokers: brokers(),
      offlineStore: { uri: `s3://${bucket}/offline`, s3: s3Endpoint() },
    }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  await server.informer.waitForSync();
  await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(ns, { ttlSeconds: 3600 }));
  const offlineOnly = sampleFeatureGroup(ns, { ttlSeconds: 0, online: { enabled: false } });
  await createObject(client, FEATURE_GROUPS, {
    ...offlineOnly,
    metadata: { name: OFFLINE_ONLY, namespace: ns },
  });
  await waitForReady(client, ns, "user-features");
  await waitForReady(client, ns, OFFLINE_ONLY);
  groupId = uniqueName("ingest-offline");
  // Files only when it stops: the first test sees the offsets held back.
  tb.defer(() => materializer?.close());
  materializer = await startTestMaterializer(ns, groupId, offlineStore(600_000));
}, 180_000);

describe("materialized rows in the offline store", () => {
  it("commits pushed rows once they are in S3, writes them on stop, and trains on them as of each row's time", {
    timeout: 120_000,
  }, async () => {
    // User 1: a full row, then rows setting some features (one clearing activity_score), out of order.
    // User 2: a full row pushed twice.
    const pushed = await post("/feature-store/v1/features:push", {
      feature_group_name: "user_features",
      rows: [
        { user_id: 1, age: 30, tenure: 1, activity_score: 0.5, event_time: T(10) },
        { user_id: 1, age: 31, event_time: T(10, 30) },
        { user_id: 1, tenure: 2, activity_score: null, event_time: T(10, 20) },
        { user_id: 2, age: 40, tenure: 4, activity_score: 0.25, event_time: T(10, 5) },
        { user_id: 2, age: 40, tenure: 4, activity_score: 0.25, event_time: T(10, 5) },
      ],
    });
    expect(pushed.statusCode).toBe(202);

    // In the online store at once (the values are older than the TTL now, so it answers their event times)...
    await waitFor("the rows to be written online", async () => {
      const fetched = await post("/feature-store/v1/features:fetch", {
        feature_group_name: "user_features",
        feature_columns: ["age", "tenure"],
        primary_key_names: ["user_id"],
        primary_key_values: [[1], [2]],
      });
      const times = fetched.body.rows?.map((r: { event_timestamps: string[] }) => r.event_timestamps);
      return (
        JSON.stringify(times) ===
        JSON.stringify([
          ["2026-11-20T10:30:00.000Z", "2026-11-20T10:20:00.000Z"],
          ["2026-11-20T10:05:00.000Z", "2026-11-20T10:05:00.000Z"],
        ])
      );
    });
    // ...but not committed while the offline store does not have them.
    await waitFor(
      "the status to show the five rows uncommitted",
      async () => (await lag("user-features")) === 5,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    expect(await listKeys(s3, { bucket, key: "offline/" }, ".parquet")).toEqual([]);

    await materializer?.close();
    materializer = undefined;
    const files = await listKeys(s3, { bucket, key: "offline/" }, ".parquet");
    expect(files).toHaveLength(1);
    expect(files[0]).toContain(`tenant=${ns}/group=user-features/version=1/date=2026-11-20/`);

    const at = [T(9, 59), T(10), T(10, 25), T(10, 45), T(11, 25), T(12)];
    const training = await post("/feature-store/v1/historical-features", {
      features: ["user_features:age", "user_features:tenure", "user_features:activity_score"],
      entity_rows: [
        ...at.map((event_timestamp) => ({ user_id: 1, event_timestamp })),
        { user_id: 2, event_timestamp: T(10, 10) },
      ],
    });
    expect(training.statusCode).toBe(200);
    expect(
      training.body.rows.map((r: Record<string, unknown>) => [r.age, r.tenure, r.activity_score]),
    ).toEqual([
      [null, null, null], // before any event
      [30, 1, 0.5], // the first row, at its own time
      [30, 2, null], // tenure and activity_score from 10:20 (activity_score cleared), age still 10:00's
      [31, 2, null], // age from 10:30
      [31, null, null], // one hour TTL: age (10:30) is 55 minutes old, tenure (10:20) 65 minutes
      [null, null, null], // everything older than the TTL
      [40, 4, 0.25], // the duplicate counts once
    ]);
  });

  it("materializes a group kept offline only, which the online routes refuse", {
    timeout: 120_000,
  }, async () => {
    // The same consumer group again, writing files every half second: it takes up after the committed offsets.
    await materializer?.close();
    materializer = await startTestMaterializer(ns, groupId, offlineStore(500));
    const random = seeded(11);
    const rows = Array.from({ length: 200 }, (_, i) => ({
      user_id: 1 + (i % 40),
      age: 18 + Math.floor(random() * 60),
      tenure: Math.round(random() * 1000) / 10,
      activity_score: Math.round(random() * 1000) / 1000,
      event_time: T(8 + Math.floor(i / 40), Math.floor(random() * 60)),
    }));
    const pushed = await post("/feature-store/v1/features:push", { feature_group_name: OFFLINE_ONLY, rows });
    expect(pushed.statusCode).toBe(202);
    const online = await post("/feature-store/v1/features:fetch", {
      feature_group_name: OFFLINE_ONLY,
      feature_columns: ["age"],
      primary_key_names: ["user_id"],
      primary_key_values: [[1]],
    });
    expect(online.statusCode).toBe(404);
    expect(online.body.error.code).toBe("GROUP_NOT_ONLINE");

    // Brute force: each user's latest row at or before each time (no TTL: ttlSeconds 0). A user's five rows
    // fall in five different hours, so no two share an event time.
    const times = [T(7), T(8, 30), T(9, 59), T(12), T(23, 59)];
    const entity = times.flatMap((t) => Array.from({ length: 40 }, (_, u) => ({ user: u + 1, t })));
    const reference = entity.map(({ user, t }) => {
      let best: (typeof rows)[number] | undefined;
      for (const r of rows)
        if (r.user_id === user && r.event_time <= t && (!best || r.event_time > best.event_time)) best = r;
      return best ? [best.age, best.tenure] : [null, null];
    });
    await waitFor(
      "the training set to equal the reference",
      async () => {
        const answer = await post("/feature-store/v1/historical-features", {
          features: [`${OFFLINE_ONLY}:age`, `${OFFLINE_ONLY}:tenure`],
          entity_rows: entity.map(({ user, t }) => ({ user_id: user, event_timestamp: t })),
        });
        if (answer.statusCode !== 200) return false;
        return answer.body.rows.every(
          (r: Record<string, unknown>, i: number) =>
            JSON.stringify([r.age, r.tenure]) === JSON.stringify(reference[i]),
        );
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    await waitFor("every row committed", async () => (await lag(OFFLINE_ONLY)) === 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
  });
});
