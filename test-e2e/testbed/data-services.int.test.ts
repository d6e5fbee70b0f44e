// @testbed data
/**
 * Every data service of the testbed answers a real client the way Darwin's components will use it:
 * Cassandra (CQL), Kafka 4 (produce, consume in a group, committed offsets), MariaDB, S3 (moto), MLflow's
 * tracking + registry + artifact APIs, and Ray's dashboard job API.
 */
import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { MessagesStreamFallbackModes, MessagesStreamModes, ProduceAcks } from "@platformatic/kafka";
import { Client as CassandraClient } from "cassandra-driver";
import mysql from "mysql2/promise";
import { describe, expect, test } from "vitest";
import { cassandraEndpoint, mlflowUrl, mysqlEndpoint, rayDashboardUrl, s3Endpoint } from "./env.ts";
import { kafkaAdmin, kafkaConsumer, kafkaProducer } from "./kafka.ts";
import { uniqueName } from "./testbed-cli.ts";

describe("Cassandra", () => {
  test("creates a keyspace and a table, writes and reads a row", { timeout: 120_000 }, async () => {
    const { contactPoint, localDataCenter } = cassandraEndpoint();
    const client = new CassandraClient({ contactPoints: [contactPoint], localDataCenter });
    const keyspace = uniqueName("tb").toLowerCase();
    try {
      await client.connect();
      await client.execute(
        `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
      await client.execute(
        `CREATE TABLE ${keyspace}.features (entity text, name text, value double, PRIMARY KEY (entity, name))`,
      );
      await client.execute(
        `INSERT INTO ${keyspace}.features (entity, name, value) VALUES (?, ?, ?)`,
        ["user-1", "clicks_7d", 42.5],
        { prepare: true },
      );
      const result = await client.execute(
        `SELECT value FROM ${keyspace}.features WHERE entity = ? AND name = ?`,
        ["user-1", "clicks_7d"],
        { prepare: true },
      );
      expect(result.rows.map((row) => row.get("value") as number)).toEqual([42.5]);
      const version = await client.execute("SELECT release_version FROM system.local");
      expect(String(version.first()?.get("release_version"))).toMatch(/^5\.0\./);
      await client.execute(`DROP KEYSPACE ${keyspace}`);
    } finally {
      await client.shutdown();
    }
  });
});

describe("Kafka 4", () => {
  test("produces, consumes in a consumer group and commits offsets the admin API reports", {
    timeout: 120_000,
  }, async () => {
    const topic = uniqueName("tb-events");
    const groupId = uniqueName("tb-group");
    const admin = kafkaAdmin("testbed-admin");
    const producer = kafkaProducer("testbed-producer");
    const consumer = kafkaConsumer("testbed-consumer", groupId);
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      const sent = ["a", "b", "c"];
      await producer.send({
        messages: sent.map((value, i) => ({ topic, key: `k${i}`, value })),
        acks: ProduceAcks.ALL,
      });

      const stream = await consumer.consume({
        topics: [topic],
        autocommit: false,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
      });
      const received: string[] = [];
      for await (const message of stream) {
        received.push(message.value);
        if (received.length === sent.length) {
          await message.commit();
          break;
        }
      }
      await stream.close();
      expect(received).toEqual(sent);

      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const committed = group?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset;
      expect(committed).toBe(3n);
      const groups = await admin.listGroups();
      expect(groups.has(groupId)).toBe(true);
    } finally {
      await consumer.close(true);
      await producer.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    }
  });
});

describe("MariaDB", () => {
  test("runs queries in the darwin database over TCP", { timeout: 60_000 }, async () => {
    const endpoint = mysqlEndpoint();
    const connection = await mysql.createConnection(endpoint.url);
    const table = uniqueName("tb_runs");
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        "SELECT VERSION() AS version, DATABASE() AS db",
      );
      expect(rows[0]?.version).toMatch(/MariaDB/);
      expect(rows[0]?.db).toBe(endpoint.database);
      await connection.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64))`);
      await connection.execute(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [1, "lineage"]);
      const [found] = await connection.execute<mysql.RowDataPacket[]>(
        `SELECT name FROM ${table} WHERE id = ?`,
        [1],
      );
      expect(found.map((r) => r.name)).toEqual(["lineage"]);
      await connection.query(`DROP TABLE ${table}`);
    } finally {
      await connection.end();
    }
  });
});

describe("S3 (moto)", () => {
  test("puts, gets and lists objects with path-style addressing", { timeout: 60_000 }, async () => {
    const { endpoint, region, accessKeyId, secretAccessKey } = s3Endpoint();
    const s3 = new S3Client({
      endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });
    const bucket = uniqueName("tb-artifacts").toLowerCase().replaceAll("_", "-");
    const body = randomBytes(2048);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "models/m1/model.bin", Body: body }));
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: "models/m1/MLmodel", Body: "flavors: {}\n" }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "models/m1/model.bin" }));
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
      expect(bytes.equals(body)).toBe(true);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "models/m1/" }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
        "models/m1/MLmodel",
        "models/m1/model.bin",
      ]);
    } finally {
      s3.destroy();
    }
  });
});

/** A call to MLflow's REST API that must succeed; its JSON body. */
async function mlflow<T>(
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
): Promise<T> {
  const url = new URL(path, mlflowUrl());
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (method === "GET" && body !== undefined) {
    for (const [k, v] of Object.entries(body as Record<string, string>)) url.searchParams.set(k, v);
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

describe("MLflow", () => {
  test("tracks a run, stores an artifact, registers a model version and resolves its alias", {
    timeout: 120_000,
  }, async () => {
    const name = uniqueName("tb-model");
    const { experiment_id: experimentId } = await mlflow<{ experiment_id: string }>(
      "POST",
      "/api/2.0/mlflow/experiments/create",
      { name: uniqueName("tb-experiment") },
    );
    const { run } = await mlflow<{ run: { info: { run_id: string; artifact_uri: string } } }>(
      "POST",
      "/api/2.0/mlflow/runs/create",
      { experiment_id: experimentId, start_time: Date.now(), run_name: "testbed" },
    );
    const runId = run.info.run_id;
    expect(run.info.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    await mlflow("POST", "/api/2.0/mlflow/runs/log-metric", {
      run_id: runId,
      key: "auc",
      value: 0.91,
      timestamp: Date.now(),
      step: 0,
    });

    // upload through the server's artifact proxy, as clients do for mlflow-artifacts:/ URIs
    const artifactPath = `${run.info.artifact_uri.replace(/^mlflow-artifacts:\/+/, "")}/model/MLmodel`;
    const content = `artifact_path: model\nrun_id: ${runId}\n`;
    const put = await fetch(new URL(`/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, mlflowUrl()), {
      method: "PUT",
      body: content,
    });
    expect(put.status, await put.text()).toBe(200);
    const download = await fetch(new URL(`/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, mlflowUrl()));
    expect(await download.text()).toBe(content);
    const listing = await mlflow<{ files?: { path: string }[] }>("GET", "/api/2.0/mlflow/artifacts/list", {
      run_id: runId,
      path: "model",
    });
    expect(listing.files?.map((f) => f.path)).toEqual(["model/MLmodel"]);

    await mlflow("POST", "/api/2.0/mlflow/registered-models/create", { name });
    const { model_version: created } = await mlflow<{ model_version: { version: string } }>(
      "POST",
      "/api/2.0/mlflow/model-versions/create",
      { name, source: `${run.info.artifact_uri}/model`, run_id: runId },
    );
    await mlflow("POST", "/api/2.0/mlflow/registered-models/alias", {
      name,
      alias: "champion",
      version: created.version,
    });
    const { model_version: resolved } = await mlflow<{ model_version: { version: string; source: string } }>(
      "GET",
      "/api/2.0/mlflow/registered-models/alias",
      { name, alias: "champion" },
    );
    expect(resolved.version).toBe(created.version);
    expect(resolved.source).toBe(`${run.info.artifact_uri}/model`);
  });
});

describe("Ray dashboard", () => {
  test("serves its version and the job list", { timeout: 60_000 }, async () => {
    const version = (await (await fetch(new URL("/api/version", rayDashboardUrl()))).json()) as {
      ray_version: string;
    };
    expect(version.ray_version).toMatch(/^2\./);
    const response = await fetch(new URL("/api/jobs/", rayDashboardUrl()));
    expect(response.status).toBe(200);
    expect(Array.isArray(await response.json())).toBe(true);
  });
});
