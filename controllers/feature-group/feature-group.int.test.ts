// @testbed control data

/**
 * The FeatureGroup controller against the real stores: applying the seed's sample makes the namespace's
 * keyspace, the version's table, its Kafka topic and the schema history row (each checked with the
 * store's own client); adding a feature alters the table in place; version 2 gets a table and topic beside
 * version 1 and both stay served; deletion drops tables and topics with Delete and keeps them with Retain.
 */
import type { Client as CassandraClient } from "cassandra-driver";
import mysql from "mysql2/promise";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { createObject, getObject, mergePatch, waitFor } from "../../operator/testing/testbed.ts";
import {
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { mysqlEndpoint } from "../../test-e2e/testbed/env.ts";
import { kafkaAdmin } from "../../test-e2e/testbed/kafka.ts";
import { keyspaceName, tableName, topicName } from "./names.ts";
import { FEATURE_GROUPS } from "./reconciler.ts";
import { SCHEMA_HISTORY_TABLE } from "./stores.ts";

let client: KubeClient;
let namespace: string;
let cassandra: CassandraClient;
let db: mysql.Connection;
const admin = () => kafkaAdmin("fg-test");

async function columns(keyspace: string, table: string): Promise<Record<string, string>> {
  const result = await cassandra.execute(
    "SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
    [keyspace, table],
    { prepare: true },
  );
  return Object.fromEntries(result.rows.map((r) => [String(r.get("column_name")), String(r.get("type"))]));
}

async function topics(): Promise<string[]> {
  const kafka = admin();
  try {
    return await kafka.listTopics();
  } finally {
    await kafka.close();
  }
}

const tb = useTestbed({ namespace: "fs-fg", cleanup: [FEATURE_GROUPS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => dropTestStores(namespace));
  cassandra = testCassandra();
  tb.defer(() => cassandra.shutdown());
  db = await mysql.createConnection(mysqlEndpoint().url);
  tb.defer(() => db.end());
  const operator = await startFeatureGroupOperator(namespace);
  tb.defer(() => operator.stop());
});

describe("FeatureGroup controller", () => {
  it("turns the sample into a keyspace, a typed table, a topic and a schema history row, and is Ready", async () => {
    await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(namespace));
    const status = await waitForReady(client, namespace, "user-features");
    const keyspace = keyspaceName(namespace);
    expect(status).toMatchObject({
      keyspace,
      table: `${keyspace}.user_features_v1`,
      topic: topicName(namespace, "user-features", 1),
      servedVersions: [1],
    });
    expect(findCondition(status.conditions, "StoreReady")?.reason).toBe("TableReady");
    expect(findCondition(status.conditions, "TopicReady")?.reason).toBe("TopicReady");

    const replication = await cassandra.execute(
      "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
      [keyspace],
      { prepare: true },
    );
    expect(replication.first()?.get("replication")).toMatchObject({ replication_factor: "1" });
    expect(await columns(keyspace, "user_features_v1")).toEqual({
      user_id: "bigint",
      age: "int",
      tenure: "double",
      activity_score: "double",
      event_time: "timestamp",
    });
    const partitionKey = await cassandra.execute(
      "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ? AND kind = 'partition_key' ALLOW FILTERING",
      [keyspace, "user_features_v1"],
      { prepare: true },
    );
    expect(partitionKey.rows.map((r) => r.get("column_name"))).toEqual(["user_id"]);

    const kafka = admin();
    try {
      const metadata = await kafka.metadata({ topics: [topicName(namespace, "user-features", 1)] });
      expect(metadata.topics.get(topicName(namespace, "user-features", 1))?.partitionsCount).toBe(3);
    } finally {
      await kafka.close();
    }

    const [rows] = await db.execute<mysql.RowDataPacket[]>(
      `SELECT version, schema_hash, schema_json FROM ${SCHEMA_HISTORY_TABLE} WHERE namespace = ? AND name = ?`,
      [namespace, "user-features"],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ version: 1, schema_hash: status.schemaHash });
    const schema =
      typeof rows[0]?.schema_json === "string" ? JSON.parse(rows[0].schema_json) : rows[0]?.schema_json;
    expect(schema.features.map((f: { name: string }) => f.name)).toEqual(["age", "tenure", "activity_score"]);
  });

  it("adds a feature to the table in place, without a new version", async () => {
    const sample = sampleFeatureGroup(namespace);
    const features = [
      ...((sample.spec as { features: object[] }).features ?? []),
      { name: "country", type: "string" },
    ];
    await mergePatch(client, FEATURE_GROUPS, namespace, "user-features", { spec: { features } });
    const status = await waitForReady(client, namespace, "user-features");
    expect(status.servedVersions).toEqual([1]);
    expect((await columns(keyspaceName(namespace), "user_features_v1")).country).toBe("text");
    const [rows] = await db.execute<mysql.RowDataPacket[]>(
      `SELECT version FROM ${SCHEMA_HISTORY_TABLE} WHERE namespace = ? AND name = ? ORDER BY created_at`,
      [namespace, "user-features"],
    );
    expect(rows.map((r) => r.version)).toEqual([1, 1]);
  });

  it("puts version 2, with a changed type, in a new table and topic beside version 1; both are served", async () => {
    await mergePatch(client, FEATURE_GROUPS, namespace, "user-features", {
      spec: {
        version: 2,
        features: [
          { name: "age", type: "int64" },
          { name: "tenure", type: "float64" },
          { name: "activity_score", type: "float64" },
        ],
      },
    });
    const status = await waitForReady(client, namespace, "user-features");
    expect(status.servedVersions).toEqual([1, 2]);
    expect(status.table).toBe(`${keyspaceName(namespace)}.user_features_v2`);
    expect((await columns(keyspaceName(namespace), "user_features_v2")).age).toBe("bigint");
    expect((await columns(keyspaceName(namespace), "user_features_v1")).age).toBe("int");
    const all = await topics();
    expect(all).toContain(topicName(namespace, "user-features", 1));
    expect(all).toContain(topicName(namespace, "user-features", 2));

    await mergePatch(client, FEATURE_GROUPS, namespace, "user-features", { spec: { servedVersions: [] } });
    expect((await waitForReady(client, namespace, "user-features")).servedVersions).toEqual([2]);
  });

  it("drops every version's table and topic on deletion with Delete, and keeps them with Retain", async () => {
    for (const [name, policy] of [
      ["doomed", "Delete"],
      ["kept", "Retain"],
    ] as const) {
      const group = sampleFeatureGroup(namespace, { deletionPolicy: policy });
      group.metadata.name = name;
      await createObject(client, FEATURE_GROUPS, group);
      await waitForReady(client, namespace, name);
    }
    const keyspace = keyspaceName(namespace);
    for (const name of ["doomed", "kept"]) {
      await client.request({
        method: "DELETE",
        path: `/apis/darwin.dreamhorizon.org/v1alpha1/namespaces/${namespace}/featuregroups/${name}`,
      });
    }
    for (const name of ["doomed", "kept"]) {
      await waitFor(
        `FeatureGroup ${name} gone`,
        async () => !(await getObject(client, FEATURE_GROUPS, namespace, name)),
        {
          timeoutMs: 60_000,
        },
      );
    }
    expect(await columns(keyspace, tableName("doomed", 1))).toEqual({});
    expect(Object.keys(await columns(keyspace, tableName("kept", 1)))).toContain("age");
    await waitFor(
      "the Delete group's topic to be gone",
      async () => !(await topics()).includes(topicName(namespace, "doomed", 1)),
    );
    expect(await topics()).toContain(topicName(namespace, "kept", 1));
  });
});
