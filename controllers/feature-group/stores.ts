/**
 * The three stores a FeatureGroup lives in, as the controller uses them: Cassandra (keyspace, tables,
 * columns), Kafka (topics) and MySQL (the schema history). Clients connect lazily and reconnect on their
 * own, so an unreachable store fails one reconcile (retried with backoff) and never the operator. The
 * reconciler imports this module at its first FeatureGroup (the three drivers weigh about 100 MiB of RSS);
 * anything else takes only its types.
 */
import { Admin } from "@platformatic/kafka";
import type { Client as CassandraClient } from "cassandra-driver";
import mysql from "mysql2/promise";
import { cassandraClient } from "./cassandra.ts";
import type { FeatureStoreConfig } from "./config.ts";
import type { LiveColumn, TableSchema } from "./render/cql.ts";

export type { FeatureStoreConfig };

/** A schema version as the history records it. */
export interface SchemaRecord {
  namespace: string;
  name: string;
  version: number;
  schemaHash: string;
  schema: TableSchema;
}

export const SCHEMA_HISTORY_TABLE = "feature_group_schemas";

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS ${SCHEMA_HISTORY_TABLE} (
  namespace VARCHAR(63) NOT NULL,
  name VARCHAR(253) NOT NULL,
  version INT NOT NULL,
  schema_hash CHAR(16) NOT NULL,
  schema_json JSON NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (namespace, name, version, schema_hash)
)`;

export class FeatureStores {
  readonly cassandra: CassandraClient;
  readonly kafka: Admin;
  readonly mysql: mysql.Pool;
  private readonly replicationFactor: number;
  private historyReady = false;

  constructor(config: FeatureStoreConfig) {
    this.cassandra = cassandraClient(config.cassandra);
    this.kafka = new Admin({
      clientId: "darwin-operator",
      bootstrapBrokers: config.kafka.brokers,
      timeout: 5000,
      retries: 1,
    });
    this.mysql = mysql.createPool({ uri: config.mysqlUrl, connectionLimit: 4, connectTimeout: 5000 });
    this.replicationFactor = config.kafka.replicationFactor;
  }

  async cql(statement: string, params: unknown[] = []): Promise<void> {
    await this.cassandra.execute(statement, params, { prepare: params.length > 0 });
  }

  /** Columns of a live table, or undefined when the table does not exist. */
  async liveColumns(keyspace: string, table: string): Promise<LiveColumn[] | undefined> {
    const result = await this.cassandra.execute(
      "SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
      [keyspace, table],
      { prepare: true },
    );
    if (result.rows.length === 0) return undefined;
    return result.rows.map((row) => ({
      name: String(row.get("column_name")),
      type: String(row.get("type")),
    }));
  }

  async tables(keyspace: string): Promise<string[]> {
    const result = await this.cassandra.execute(
      "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
      [keyspace],
      { prepare: true },
    );
    return result.rows.map((row) => String(row.get("table_name")));
  }

  /** Creates the topic, or adds partitions when the spec asks for more; returns its partition count. */
  async ensureTopic(topic: string, partitions: number): Promise<number> {
    const existing = await this.topicPartitions(topic);
    if (existing === undefined) {
      await this.kafka.createTopics({ topics: [topic], partitions, replicas: this.replicationFactor });
      return partitions;
    }
    if (existing < partitions) {
      await this.kafka.createPartitions({ topics: [{ name: topic, count: partitions }] });
      return partitions;
    }
    return existing;
  }

  async topicPartitions(topic: string): Promise<number | undefined> {
    const topics = await this.kafka.listTopics({ includeInternals: false });
    if (!topics.includes(topic)) return undefined;
    const metadata = await this.kafka.metadata({ topics: [topic], forceUpdate: true });
    return metadata.topics.get(topic)?.partitionsCount;
  }

  async topicsWithPrefix(prefix: string): Promise<string[]> {
    return (await this.kafka.listTopics({ includeInternals: false })).filter((t) => t.startsWith(prefix));
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length > 0) await this.kafka.deleteTopics({ topics });
  }

  /** Records a schema version (once per namespace, name, version and hash). */
  async recordSchema(record: SchemaRecord): Promise<void> {
    await this.ensureHistoryTable();
    await this.mysql.execute(
      `INSERT IGNORE INTO ${SCHEMA_HISTORY_TABLE} (namespace, name, version, schema_hash, schema_json) VALUES (?, ?, ?, ?, ?)`,
      [record.namespace, record.name, record.version, record.schemaHash, JSON.stringify(record.schema)],
    );
  }

  /** Every version of a group the history knows, ascending. */
  async recordedVersions(namespace: string, name: string): Promise<number[]> {
    await this.ensureHistoryTable();
    const [rows] = await this.mysql.execute<mysql.RowDataPacket[]>(
      `SELECT DISTINCT version FROM ${SCHEMA_HISTORY_TABLE} WHERE namespace = ? AND name = ? ORDER BY version`,
      [namespace, name],
    );
    return rows.map((row) => Number(row.version));
  }

  private async ensureHistoryTable(): Promise<void> {
    if (this.historyReady) return;
    await this.mysql.query(CREATE_HISTORY);
    this.historyReady = true;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.cassandra.shutdown(), this.kafka.close(), this.mysql.end()]);
  }
}
