// @testbed control data

/**
 * The populator against the real testbed: the sample Parquet file (10,000 rows, four events per user in
 * shuffled order) is put on the testbed's S3 and loaded with `hermes features load` into the seed's group,
 * made by the FeatureGroup controller; the feature server then serves each user's latest event. A file
 * with a misnamed column is refused, naming it, and writes nothing: neither Cassandra nor the offline store.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Client as CassandraClient } from "cassandra-driver";
import { beforeAll, describe, expect, it } from "vitest";
import { runHermes } from "../../cli/program.ts";
import { keyspaceName, tableName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { createObject, testbedClient, testLogger } from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  testStoreConfig,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { s3Endpoint } from "../../test-e2e/testbed/env.ts";
import { featureServerConfig } from "../feature-server/config.ts";
import { type RunningFeatureServer, startFeatureServer } from "../feature-server/server.ts";
import { listKeys, s3Client, uploadFile } from "../offline-store/s3.ts";
import { deleteTestBucket } from "../testing/s3.ts";
import { type SampleRow, sampleRows, writeSampleParquet } from "./sample-data.ts";

let client: KubeClient;
let namespace: string;
let server: RunningFeatureServer;
let cassandra: CassandraClient;
let s3: S3Client;
let bucket: string;
let dir: string;
let env: NodeJS.ProcessEnv;

async function hermes(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runHermes(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env,
  });
  return { code, stdout, stderr };
}

async function fetchUsers(users: bigint[]) {
  const answer = await server.app.inject({
    method: "POST",
    url: `/namespaces/${namespace}/feature-store/v1/features:fetch`,
    headers: { authorization: `Bearer ${adminToken()}`, "content-type": "application/json" },
    payload: JSON.stringify({
      feature_group_name: "user_features",
      feature_columns: ["age", "tenure", "activity_score"],
      primary_key_names: ["user_id"],
      primary_key_values: users.map((u) => [Number(u)]),
    }),
  });
  expect(answer.statusCode).toBe(200);
  return answer.json() as {
    rows: Array<{ values: unknown[]; statuses: string[]; event_timestamps: Array<string | null> }>;
  };
}

const tb = useTestbed({ namespace: "offline-load", cleanup: [FEATURE_GROUPS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => dropTestStores(namespace));
  cassandra = testCassandra();
  tb.defer(() => cassandra.shutdown());
  const operator = await startFeatureGroupOperator(namespace);
  tb.defer(() => operator.stop());
  const endpoint = s3Endpoint();
  s3 = s3Client({ ...endpoint, forcePathStyle: true });
  tb.defer(() => s3.destroy());
  bucket = `offline-load-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  tb.defer(() => deleteTestBucket(s3, bucket));
  dir = await mkdtemp(join(tmpdir(), "populator-test-"));
  tb.defer(() => rm(dir, { recursive: true, force: true }));
  const stores = testStoreConfig();
  server = await startFeatureServer({
    config: featureServerConfig.parse({ maxKeys: 5000, cassandra: stores.cassandra }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  await server.informer.waitForSync();
  await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(namespace));
  await waitForReady(client, namespace, "user-features");
  env = {
    HERMES_HOME: join(dir, "hermes"),
    KUBECONFIG: process.env.KUBECONFIG,
    DARWIN_CASSANDRA_CONTACT: stores.cassandra.contactPoints.join(","),
    DARWIN_CASSANDRA_DATACENTER: stores.cassandra.localDataCenter,
    DARWIN_S3_ENDPOINT: endpoint.endpoint,
    DARWIN_S3_REGION: endpoint.region,
    DARWIN_S3_ACCESS_KEY_ID: endpoint.accessKeyId,
    DARWIN_S3_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
    DARWIN_OFFLINE_STORE_URI: `s3://${bucket}/offline`,
  };
}, 180_000);

describe("hermes features load", () => {
  it("loads the 10,000-row sample from S3; the server serves each user's latest event", {
    timeout: 180_000,
  }, async () => {
    const rows = sampleRows(10_000, new Date(), 7);
    const file = join(dir, "user-features.parquet");
    await writeSampleParquet(file, rows);
    await uploadFile(s3, file, { bucket, key: "input/user-features.parquet" });

    const result = await hermes([
      "features",
      "load",
      "user_features",
      "--file",
      `s3://${bucket}/input/user-features.parquet`,
      "-n",
      namespace,
    ]);
    expect(result.stderr).toMatch(/10,000\/10,000 rows \(100%\), [0-9,]+ rows\/s, ETA 0s/);
    expect(result.stdout).toContain(`loaded 10000 rows into ${keyspaceName(namespace)}.user_features_v1`);
    expect(result.code).toBe(0);

    const latest = new Map<bigint, SampleRow>();
    for (const row of rows) {
      const seen = latest.get(row.user_id);
      if (!seen || row.eventMicros > seen.eventMicros) latest.set(row.user_id, row);
    }
    const users = [...latest.keys()];
    const answer = await fetchUsers(users);
    answer.rows.forEach((row, i) => {
      const want = latest.get(users[i] as bigint) as SampleRow;
      expect(row.statuses).toEqual(["PRESENT", "PRESENT", "PRESENT"]);
      expect(row.values).toEqual([want.age, want.tenure, want.activity_score]);
      expect(row.event_timestamps[0]).toBe(new Date(Number(want.eventMicros / 1000n)).toISOString());
    });

    // Every row is in the offline store, partitioned by tenant, group, version and date.
    const files = await listKeys(s3, {
      bucket,
      key: `offline/tenant=${namespace}/group=user-features/version=1/`,
    });
    expect(files.length).toBeGreaterThan(0);
    for (const key of files) expect(key).toMatch(/\/date=\d{4}-\d{2}-\d{2}\/part-\d+-[0-9a-f]{8}\.parquet$/);
  });

  it("refuses a file with a misnamed column, naming it, and writes nothing", {
    timeout: 120_000,
  }, async () => {
    const before = await listKeys(s3, { bucket, key: "offline/" });
    const rows = sampleRows(400, new Date(), 11).map((r) => ({ ...r, user_id: r.user_id + 900_000n }));
    const file = join(dir, "wrong-column.parquet");
    await writeSampleParquet(file, rows, { age: "agee" });

    const result = await hermes(["features", "load", "user-features", "--file", file, "-n", namespace]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("column agee is not in the group");
    expect(result.stderr).toContain("column age (feature, int32) is missing");
    expect(result.stderr).toContain("nothing was written");

    const written = await cassandra.execute(
      `SELECT count(*) FROM "${keyspaceName(namespace)}"."${tableName("user-features", 1)}" WHERE user_id IN ?`,
      [[...new Set(rows.map((r) => r.user_id))]],
      { prepare: true },
    );
    expect(Number(written.first().get(0))).toBe(0);
    expect(await listKeys(s3, { bucket, key: "offline/" })).toEqual(before);
  });

  it("refuses a column of the wrong type and an unknown group, each named", { timeout: 60_000 }, async () => {
    const file = join(dir, "sample.parquet");
    await writeSampleParquet(file, sampleRows(8, new Date(), 3), { age: "age" });
    const unknown = await hermes(["features", "load", "no-such-group", "--file", file, "-n", namespace]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('feature group "no-such-group" does not exist');
    const badTime = await hermes([
      "features",
      "load",
      "user_features",
      "--file",
      file,
      "-n",
      namespace,
      "--event-time-column",
      "age",
    ]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("column age (the event time) is INTEGER, it must be a timestamp");
  });
});
