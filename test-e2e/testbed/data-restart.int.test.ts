// @testbed data
/**
 * Durability of the stateful data services across a crash: each test writes, SIGKILLs the service through
 * `hack/testbed kill`, starts it again with `hack/testbed up`, and reads the data back with a new client.
 * (S3 is moto, which keeps its data in memory, so it has no such test.)
 */
import { MessagesStreamFallbackModes, MessagesStreamModes, ProduceAcks } from "@platformatic/kafka";
import { Client as CassandraClient } from "cassandra-driver";
import mysql from "mysql2/promise";
import { describe, expect, test } from "vitest";
import { waitFor } from "../support/wait.ts";
import { cassandraEndpoint, mysqlEndpoint } from "./env.ts";
import { kafkaAdmin, kafkaConsumer, kafkaProducer } from "./kafka.ts";
import { testbed, uniqueName } from "./testbed-cli.ts";

/** SIGKILL a component, check that it is down, and bring it back up (waits for its readiness check). */
function crashAndRestart(component: string): void {
  testbed("kill", component);
  expect(testbed("status")).toMatch(new RegExp(`^${component}\\s+down`, "m"));
  testbed("up", component);
}

describe("restart durability", () => {
  test("Cassandra keeps acknowledged writes across SIGKILL", { timeout: 300_000 }, async () => {
    const { contactPoint, localDataCenter } = cassandraEndpoint();
    const keyspace = uniqueName("tb_restart").toLowerCase();
    const rows = Array.from({ length: 20 }, (_, i) => ({ id: `e${i}`, value: i * 1.5 }));

    const writer = new CassandraClient({ contactPoints: [contactPoint], localDataCenter });
    try {
      await writer.connect();
      await writer.execute(
        `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
      await writer.execute(`CREATE TABLE ${keyspace}.kv (id text PRIMARY KEY, value double)`);
      for (const row of rows) {
        await writer.execute(`INSERT INTO ${keyspace}.kv (id, value) VALUES (?, ?)`, [row.id, row.value], {
          prepare: true,
        });
      }
    } finally {
      await writer.shutdown();
    }

    crashAndRestart("cassandra");

    const reader = new CassandraClient({ contactPoints: [contactPoint], localDataCenter });
    try {
      await waitFor("Cassandra accepts connections after the restart", async () => {
        await reader.connect();
        return true;
      });
      const result = await reader.execute(`SELECT id, value FROM ${keyspace}.kv`);
      const read = result.rows
        .map((r) => ({ id: String(r.get("id")), value: Number(r.get("value")) }))
        .sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
      expect(read).toEqual(rows);
      await reader.execute(`DROP KEYSPACE ${keyspace}`);
    } finally {
      await reader.shutdown();
    }
  });

  test("Kafka keeps records and committed group offsets across SIGKILL", { timeout: 300_000 }, async () => {
    const topic = uniqueName("tb-restart");
    const groupId = uniqueName("tb-restart-group");
    const values = Array.from({ length: 10 }, (_, i) => `record-${i}`);

    const admin = kafkaAdmin("testbed-restart");
    const producer = kafkaProducer("testbed-restart");
    const consumer = kafkaConsumer("testbed-restart", groupId);
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      await producer.send({ messages: values.map((value) => ({ topic, value })), acks: ProduceAcks.ALL });
      // the group consumes the first 4 records and commits offset 4
      const stream = await consumer.consume({
        topics: [topic],
        autocommit: false,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      });
      let seen = 0;
      for await (const message of stream) {
        if (++seen === 4) {
          await message.commit();
          break;
        }
      }
      await stream.close();
    } finally {
      await consumer.close(true);
      await producer.close();
      await admin.close();
    }

    crashAndRestart("kafka");

    const admin2 = kafkaAdmin("testbed-restart-2");
    const consumer2 = kafkaConsumer("testbed-restart-2", groupId);
    try {
      // the group coordinator reloads __consumer_offsets after the restart
      const committed = await waitFor("the committed offset is readable after the restart", async () => {
        const [group] = await admin2.listConsumerGroupOffsets({ groups: [groupId] });
        return group?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset;
      });
      expect(committed).toBe(4n);
      const offsets = await consumer2.listOffsets({ topics: [topic] });
      expect(offsets.get(topic)?.[0]).toBe(BigInt(values.length));

      // the same group resumes after its committed offset
      const stream = await consumer2.consume({
        topics: [topic],
        autocommit: false,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.FAIL,
      });
      const rest: string[] = [];
      for await (const message of stream) {
        rest.push(message.value);
        if (rest.length === values.length - 4) break;
      }
      await stream.close();
      expect(rest).toEqual(values.slice(4));
      await admin2.deleteTopics({ topics: [topic] });
    } finally {
      await consumer2.close(true);
      await admin2.close();
    }
  });

  test("MariaDB keeps committed rows across SIGKILL", { timeout: 180_000 }, async () => {
    const endpoint = mysqlEndpoint();
    const table = uniqueName("tb_restart");
    const writer = await mysql.createConnection(endpoint.url);
    try {
      await writer.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB`);
      await writer.beginTransaction();
      for (let i = 0; i < 10; i++)
        await writer.execute(`INSERT INTO ${table} VALUES (?, ?)`, [i, `row-${i}`]);
      await writer.commit();
    } finally {
      await writer.end();
    }

    crashAndRestart("mariadb");

    const reader = await waitFor("MariaDB accepts connections after the restart", () =>
      mysql.createConnection(endpoint.url),
    );
    try {
      const [rows] = await reader.query<mysql.RowDataPacket[]>(`SELECT id, name FROM ${table} ORDER BY id`);
      expect(rows.map((r) => [r.id, r.name])).toEqual(Array.from({ length: 10 }, (_, i) => [i, `row-${i}`]));
      await reader.query(`DROP TABLE ${table}`);
    } finally {
      await reader.end();
    }
  });
});
