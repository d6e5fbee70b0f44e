// @testbed control data

/**
 * Training sets against the real testbed: rows are written to the offline store on the testbed's S3 by
 * its writer (several files, several date partitions), and the feature server's historical-features
 * route joins 10,000 random entity rows with DuckDB's ASOF JOIN. The answer must equal a brute-force
 * reference computed here: for each row, the latest event at or before its timestamp, null when there
 * is none or it is older than the group's TTL. The rows include times before a user's first event, long
 * after the last (outside the TTL), exactly on an event (a tie takes that event), one microsecond before
 * one, and exactly at and just past the TTL. Bad requests get a 4xx naming the field.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { runHermes } from "../../cli/program.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { createObject, testbedClient, testLogger } from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testStoreConfig,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { s3Endpoint } from "../../test-e2e/testbed/env.ts";
import { literal, openDuckDb } from "../offline-store/duckdb.ts";
import { downloadObject, s3Client, uploadFile } from "../offline-store/s3.ts";
import { OfflineStoreWriter } from "../offline-store/writer.ts";
import { seeded } from "../populator/sample-data.ts";
import { deleteTestBucket } from "../testing/s3.ts";
import { featureServerConfig } from "./config.ts";
import { type RunningFeatureServer, startFeatureServer } from "./server.ts";

const TTL_SECONDS = 86_400;
const TTL_US = BigInt(TTL_SECONDS) * 1_000_000n;
const ROUTE = "/feature-store/v1/historical-features";
const FEATURES = ["user_features:age", "user_features:tenure", "user_features:activity_score"];

interface Event {
  user: number;
  micros: bigint;
  age: number;
  tenure: number;
  activity_score: number;
}

let client: KubeClient;
let namespace: string;
let server: RunningFeatureServer;
let s3: S3Client;
let bucket: string;
let dir: string;
const events = new Map<number, Event[]>();
const T0 = BigInt(Date.parse("2026-10-01T00:00:00Z")) * 1000n;

/** RFC 3339 with microseconds. */
function iso(micros: bigint): string {
  const ms = new Date(Number(micros / 1000n)).toISOString();
  const us = String(((micros % 1000n) + 1000n) % 1000n).padStart(3, "0");
  return `${ms.slice(0, 23)}${us}Z`;
}

/** The brute-force answer for one entity row: the features, or nulls. */
function reference(user: number, ts: bigint): [number | null, number | null, number | null] {
  let best: Event | undefined;
  for (const e of events.get(user) ?? []) if (e.micros <= ts && (!best || e.micros > best.micros)) best = e;
  if (!best || ts - best.micros > TTL_US) return [null, null, null];
  return [best.age, best.tenure, best.activity_score];
}

async function post(body: unknown, options: { raw?: string; token?: string | null } = {}) {
  const token = options.token === undefined ? adminToken() : options.token;
  const answer = await server.app.inject({
    method: "POST",
    url: `/namespaces/${namespace}${ROUTE}`,
    headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
    payload: options.raw ?? JSON.stringify(body),
  });
  return { statusCode: answer.statusCode, body: answer.json() as Record<string, unknown> };
}

const tb = useTestbed({ namespace: "offline-pit", cleanup: [FEATURE_GROUPS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => dropTestStores(namespace));
  const operator = await startFeatureGroupOperator(namespace);
  tb.defer(() => operator.stop());
  s3 = s3Client({ ...s3Endpoint(), forcePathStyle: true });
  tb.defer(() => s3.destroy());
  bucket = `offline-pit-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  tb.defer(() => deleteTestBucket(s3, bucket));
  dir = await mkdtemp(join(tmpdir(), "historical-test-"));
  tb.defer(() => rm(dir, { recursive: true, force: true }));
  const endpoint = s3Endpoint();
  server = await startFeatureServer({
    config: featureServerConfig.parse({
      cassandra: testStoreConfig().cassandra,
      offlineStore: { uri: `s3://${bucket}/offline`, s3: endpoint },
    }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  await server.informer.waitForSync();
  await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(namespace, { ttlSeconds: TTL_SECONDS }));
  await waitForReady(client, namespace, "user-features");

  // 300 users, 1 to 30 events each over ten days, at distinct whole seconds per user.
  const random = seeded(42);
  const writer = new OfflineStoreWriter({ s3, root: { bucket, key: "offline" }, maxRows: 200 });
  const spec = sampleFeatureGroup(namespace).spec as { entities: never[]; features: never[] };
  for (let user = 1; user <= 300; user++) {
    const seconds = new Set<number>();
    const count = 1 + Math.floor(random() * 30);
    while (seconds.size < count) seconds.add(Math.floor(random() * 10 * 86_400));
    const list = [...seconds].map((s) => ({
      user,
      micros: T0 + BigInt(s) * 1_000_000n,
      age: 18 + Math.floor(random() * 60),
      tenure: Math.round(random() * 12_000) / 100,
      activity_score: Math.round(random() * 1e6) / 1e6,
    }));
    events.set(user, list);
    await writer.append(
      { namespace, group: "user-features", version: 1, entities: spec.entities, features: spec.features },
      list.map((e) => ({
        values: { user_id: BigInt(e.user), age: e.age, tenure: e.tenure, activity_score: e.activity_score },
        eventMicros: e.micros,
      })),
    );
  }
  await writer.close();
  expect(writer.written.length).toBeGreaterThan(10);
}, 180_000);

/** 10,000 entity rows: random times, and the edge cases around events and the TTL. */
function entityRows(): Array<{ user: number; ts: bigint }> {
  const random = seeded(7);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const rows: Array<{ user: number; ts: bigint }> = [];
  for (let i = 0; i < 10_000; i++) {
    const user = 1 + Math.floor(random() * 320); // users 301-320 have no events
    const list = events.get(user);
    const kind = random();
    const event = list ? pick(list) : undefined;
    let ts: bigint;
    if (!event || kind < 0.5)
      ts = T0 - 86_400_000_000n + BigInt(Math.floor(random() * 13 * 86_400)) * 1_000_000n;
    else if (kind < 0.7)
      ts = event.micros; // a tie: the event itself counts
    else if (kind < 0.8)
      ts = event.micros - 1n; // just before: the previous event, or none
    else if (kind < 0.9)
      ts = event.micros + TTL_US; // exactly the TTL old: still valid
    else ts = event.micros + TTL_US + 1_000_000n; // a second past the TTL, unless a later event came
    rows.push({ user, ts });
  }
  return rows;
}

describe("historical-features", () => {
  it("answers 10,000 entity rows exactly as the brute-force reference", { timeout: 120_000 }, async () => {
    const rows = entityRows();
    const answer = await post({
      features: FEATURES,
      entity_rows: rows.map((r) => ({ user_id: r.user, event_timestamp: iso(r.ts) })),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.body.columns).toEqual(["user_id", "event_timestamp", "age", "tenure", "activity_score"]);
    const got = answer.body.rows as Array<Record<string, unknown>>;
    expect(got).toHaveLength(rows.length);
    const mismatches: string[] = [];
    let nulls = 0;
    rows.forEach((r, i) => {
      const want = reference(r.user, r.ts);
      if (want[0] === null) nulls++;
      const row = got[i] ?? {};
      const have = [row.age, row.tenure, row.activity_score];
      if (row.user_id !== r.user || JSON.stringify(have) !== JSON.stringify(want))
        mismatches.push(`row ${i} user ${r.user} at ${iso(r.ts)}: got ${JSON.stringify(row)}, want ${want}`);
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The cases the test means to cover are there in numbers.
    expect(nulls).toBeGreaterThan(500);
    expect(rows.length - nulls).toBeGreaterThan(5000);
  });

  it("reads entity rows from a Parquet file on S3, keeps its other columns, writes the set to S3", {
    timeout: 120_000,
  }, async () => {
    const rows = entityRows().slice(0, 2000);
    const duckdb = await openDuckDb();
    const input = join(dir, "entities.parquet");
    try {
      const values = rows.map((r, i) => `(${r.user}, make_timestamp(${r.ts}), ${i % 2})`).join(", ");
      await duckdb.connection.run(
        `COPY (SELECT * FROM (VALUES ${values}) AS t(user_id, event_timestamp, label)) TO ${literal(input)} (FORMAT parquet)`,
      );
      await uploadFile(s3, input, { bucket, key: "entities/rows.parquet" });
      const answer = await post({
        features: FEATURES,
        entity_source: `s3://${bucket}/entities/rows.parquet`,
        output: `s3://${bucket}/training/set.parquet`,
        full_feature_names: true,
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toMatchObject({ row_count: 2000, output: `s3://${bucket}/training/set.parquet` });
      const output = join(dir, "set.parquet");
      await downloadObject(s3, { bucket, key: "training/set.parquet" }, output);
      const read = await duckdb.connection.runAndReadAll(`SELECT * FROM read_parquet(${literal(output)})`);
      expect(read.columnNames()).toEqual([
        "user_id",
        "event_timestamp",
        "label",
        "user_features__age",
        "user_features__tenure",
        "user_features__activity_score",
      ]);
      read.getRowObjectsJS().forEach((row, i) => {
        const r = rows[i] as { user: number; ts: bigint };
        expect(Number(row.user_id)).toBe(r.user);
        expect(row.label).toBe(i % 2);
        expect([
          row.user_features__age,
          row.user_features__tenure,
          row.user_features__activity_score,
        ]).toEqual(reference(r.user, r.ts));
      });
    } finally {
      duckdb.close();
    }
  });

  it.each([
    [
      "no features",
      { entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z" }] },
      400,
      "features",
    ],
    [
      "a malformed reference",
      { features: ["age"], entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z" }] },
      400,
      "features[0]",
    ],
    [
      "an unknown group",
      { features: ["nope:age"], entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z" }] },
      404,
      'group \\"nope\\" does not exist',
    ],
    [
      "an unknown feature",
      {
        features: ["user_features:height"],
        entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z" }],
      },
      400,
      "no feature height",
    ],
    ["no entities", { features: FEATURES }, 400, "entity_rows or entity_source"],
    [
      "both entity sources",
      {
        features: FEATURES,
        entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z" }],
        entity_source: "s3://b-1/x.parquet",
      },
      400,
      "entity_rows or entity_source",
    ],
    [
      "a row without its key",
      { features: FEATURES, entity_rows: [{ event_timestamp: "2026-10-02T00:00:00Z" }] },
      400,
      "entity_rows[0].user_id",
    ],
    [
      "a key of the wrong type",
      { features: FEATURES, entity_rows: [{ user_id: "x", event_timestamp: "2026-10-02T00:00:00Z" }] },
      400,
      "entity_rows[0].user_id: must be an int64",
    ],
    [
      "a bad timestamp",
      { features: FEATURES, entity_rows: [{ user_id: 1, event_timestamp: "yesterday" }] },
      400,
      "entity_rows[0].event_timestamp",
    ],
    [
      "a missing timestamp",
      { features: FEATURES, entity_rows: [{ user_id: 1, ts: "2026-10-02T00:00:00Z" }] },
      400,
      "entity_rows[0].event_timestamp",
    ],
    [
      "an unknown column",
      {
        features: FEATURES,
        entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z", label: 1 }],
      },
      400,
      "entity_rows[0].label",
    ],
    [
      "an entity source that is not s3",
      { features: FEATURES, entity_source: "/tmp/x.parquet" },
      400,
      "entity_source",
    ],
    [
      "a missing entity source",
      { features: FEATURES, entity_source: "s3://no-such-bucket-x/x.parquet" },
      400,
      "entity_source",
    ],
    ["an unknown field", { features: FEATURES, entity_rows: [], extra: 1 }, 400, "extra"],
    [
      "a duplicated output name",
      {
        features: ["user_features:age", "user_features:age"],
        entity_rows: [{ user_id: 1, event_timestamp: "2026-10-02T00:00:00Z" }],
      },
      400,
      "two features would be named age",
    ],
    [
      "a feature named like the timestamp column",
      {
        features: ["user_features:age"],
        timestamp_column: "age",
        entity_rows: [{ user_id: 1, age: "2026-10-02T00:00:00Z" }],
      },
      400,
      "the column age would be both an entity column and a feature",
    ],
  ])("refuses %s, naming it", async (_name, body, status, text) => {
    const answer = await post(body);
    expect(answer.statusCode).toBe(status);
    expect(JSON.stringify(answer.body)).toContain(text);
  });

  it("refuses malformed JSON, an entity source that is not Parquet, and no token, each with a 4xx", async () => {
    expect((await post(undefined, { raw: "{features: [" })).statusCode).toBe(400);
    await s3.send(
      new (await import("@aws-sdk/client-s3")).PutObjectCommand({
        Bucket: bucket,
        Key: "bad/x.parquet",
        Body: "not parquet",
      }),
    );
    const notParquet = await post({ features: FEATURES, entity_source: `s3://${bucket}/bad/x.parquet` });
    expect(notParquet.statusCode).toBe(400);
    expect(JSON.stringify(notParquet.body)).toContain("entity_source: not a readable Parquet file");
    const missingColumn = await post({
      features: FEATURES,
      entity_source: `s3://${bucket}/training/set.parquet`,
      timestamp_column: "ts",
    });
    expect(missingColumn.statusCode).toBe(400);
    expect(JSON.stringify(missingColumn.body)).toContain("column ts: missing");
    expect((await post({ features: FEATURES, entity_rows: [] }, { token: null })).statusCode).toBe(401);
  });

  it("hermes features training-set prints the set, and says why the server refused", {
    timeout: 60_000,
  }, async () => {
    const address = await server.app.listen({ port: 0, host: "127.0.0.1" });
    const rows = entityRows().slice(0, 50);
    const file = join(dir, "entities.json");
    await writeFile(file, JSON.stringify(rows.map((r) => ({ user_id: r.user, event_timestamp: iso(r.ts) }))));
    const hermes = async (args: string[]) => {
      let stdout = "";
      let stderr = "";
      const code = await runHermes(["features", "training-set", ...args, "-n", namespace], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t), isTTY: false },
        env: {
          HERMES_HOME: join(dir, "hermes"),
          HERMES_USER_TOKEN: adminToken(),
          HERMES_FEATURE_SERVER_URL: address,
        },
      });
      return { code, stdout, stderr };
    };
    const ok = await hermes(["--features", FEATURES.join(","), "--entities", file]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const set = JSON.parse(ok.stdout) as { rows: Array<Record<string, unknown>> };
    expect(set.rows.map((row) => [row.age, row.tenure, row.activity_score])).toEqual(
      rows.map((r) => reference(r.user, r.ts)),
    );
    const refused = await hermes(["--features", "nope:age", "--entities", file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the feature server refused (404): feature group "nope" does not exist');
  });
});
