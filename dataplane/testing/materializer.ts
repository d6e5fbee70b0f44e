/**
 * Helpers for the push and materializer tests: a materializer in this process (or as its own process, to
 * kill), rows produced straight to a feature topic, a table read back with each value's write time, and a
 * topic (a feature topic, a dead-letter topic) read from the start.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import {
  Admin,
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
} from "@platformatic/kafka";
import type { Client as CassandraClient } from "cassandra-driver";
import { keyspaceName, tableName } from "../../controllers/feature-group/names.ts";
import { REPO, testbedClient, testLogger, waitFor } from "../../operator/testing/testbed.ts";
import { testStoreConfig } from "../../test-e2e/support/feature-store.ts";
import { kafkaEndpoint } from "../../test-e2e/testbed/env.ts";
import { materializerConfig } from "../materializer/config.ts";
import { type RunningMaterializer, startMaterializer } from "../materializer/run.ts";
import { forceClose, KafkaPublisher, type OutgoingMessage } from "../shared/kafka.ts";

export const brokers = () => kafkaEndpoint().brokers;

/**
 * A materializer in this process, for the groups of `namespace`, in its own consumer group; with
 * `offlineStore` (uri, s3, flush bounds), also writing the offline store.
 */
export async function startTestMaterializer(
  namespace: string,
  groupId: string,
  offlineStore?: Record<string, unknown>,
): Promise<RunningMaterializer> {
  const stores = testStoreConfig();
  return startMaterializer({
    config: materializerConfig.parse({
      namespace,
      groupId,
      brokers: brokers(),
      statusIntervalMs: 500,
      cassandra: stores.cassandra,
      ...(offlineStore && { offlineStore }),
    }),
    client: testbedClient("darwin-materializer"),
    log: testLogger(),
  });
}

/** `node cmd/materializer.ts` as its own process (so it can be killed with SIGKILL). */
export function spawnMaterializer(namespace: string, groupId: string): ChildProcess {
  const stores = testStoreConfig();
  const child = spawn(join(REPO, "node_modules", ".bin", "node"), [join(REPO, "cmd", "materializer.ts")], {
    env: {
      ...process.env,
      DARWIN_KAFKA_BROKERS: brokers().join(","),
      DARWIN_CASSANDRA_CONTACT: stores.cassandra.contactPoints.join(","),
      DARWIN_CASSANDRA_DATACENTER: stores.cassandra.localDataCenter,
      DARWIN_MATERIALIZER_NAMESPACE: namespace,
      DARWIN_MATERIALIZER_GROUP: groupId,
      DARWIN_MATERIALIZER_PORT: "0",
      DARWIN_MATERIALIZER_HOST: "127.0.0.1",
      DARWIN_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return child;
}

/** Produces messages with an idempotent acks=all producer; resolves once Kafka acknowledged all. */
export async function produce(messages: readonly OutgoingMessage[]): Promise<void> {
  const publisher = new KafkaPublisher({
    brokers: brokers(),
    clientId: "ingest-test",
    sendTimeoutMs: 30_000,
  });
  try {
    for (let i = 0; i < messages.length; i += 5000) await publisher.publish(messages.slice(i, i + 5000));
  } finally {
    await publisher.close();
  }
}

/** A row as a JSON message on a group's topic, keyed by its entity. */
export function rowMessage(
  topic: string,
  row: Record<string, unknown>,
  key = String(row.user_id),
): OutgoingMessage {
  return { topic, key, value: JSON.stringify(row) };
}

/** Every row of a version's table: entity key to the value of `column` and its write time (µs). */
export async function readColumn(
  cassandra: CassandraClient,
  namespace: string,
  group: string,
  version: number,
  key: string,
  column: string,
): Promise<Map<string, { value: unknown; writeTime: bigint }>> {
  const out = new Map<string, { value: unknown; writeTime: bigint }>();
  const cql = `SELECT "${key}", "${column}", WRITETIME("${column}") FROM "${keyspaceName(namespace)}"."${tableName(group, version)}"`;
  for await (const row of cassandra.stream(cql, [], {
    prepare: true,
    fetchSize: 5000,
  }) as unknown as AsyncIterable<{ get(i: number): unknown }>) {
    const value = row.get(1);
    if (value === null) continue;
    out.set(String(row.get(0)), { value, writeTime: BigInt(String(row.get(2))) });
  }
  return out;
}

export interface TopicMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
}

/**
 * The first `count` messages of a topic, read from its start (fewer if they do not come within 30 s); in
 * offset order within each partition.
 */
export async function readTopic(topic: string, count: number): Promise<TopicMessage[]> {
  const consumer = new Consumer<string, string, string, string>({
    clientId: "ingest-test-reader",
    groupId: `ingest-test-reader-${Date.now().toString(36)}`,
    bootstrapBrokers: brokers(),
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const messages: TopicMessage[] = [];
  try {
    const stream = await waitFor(
      `the topic ${topic}`,
      async () =>
        consumer
          .consume({
            topics: [topic],
            mode: MessagesStreamModes.EARLIEST,
            fallbackMode: MessagesStreamFallbackModes.EARLIEST,
            autocommit: false,
          })
          .catch(() => undefined),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const deadline = Date.now() + 30_000;
    for await (const message of stream) {
      messages.push({
        key: message.key ?? "",
        value: message.value ?? "",
        headers: Object.fromEntries(message.headers),
        partition: message.partition,
      });
      if (messages.length >= count || Date.now() > deadline) break;
    }
  } finally {
    await forceClose(consumer);
  }
  return messages;
}

/** Offsets the consumer group committed on `topic`, summed over its partitions. */
export async function committedOffsets(groupId: string, topic: string): Promise<number> {
  const admin = new Admin({ clientId: "ingest-test-admin", bootstrapBrokers: brokers() });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const partitions = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    return partitions.reduce((sum, p) => sum + Math.max(0, Number(p.committedOffset)), 0);
  } finally {
    await admin.close();
  }
}
