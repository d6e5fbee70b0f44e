/**
 * The online store's write path: each row is one prepared INSERT of its entity keys, the features it sets
 * and `event_time`, `USING TIMESTAMP <event time in µs>`. Cassandra keeps, per value, the write with the
 * highest timestamp, so the latest event wins whatever order rows arrive in, and writing a row again (a
 * redelivery after a crash) changes nothing. Two writes with the same event time resolve the same way on
 * every replica (Cassandra then keeps the greater value), so a replay converges too.
 *
 * Rows are written concurrently, at most `concurrency` in flight: with single-row statements the driver
 * routes each to a replica of its partition (token-aware), where a multi-partition batch would make one
 * coordinator forward most of it.
 */
import type { Client as CassandraClient } from "cassandra-driver";
import { EVENT_TIME_COLUMN, quote } from "../../controllers/feature-group/render/cql.ts";
import type { ServedVersion } from "../feature-server/groups.ts";
import type { CassandraValue, FeatureRow } from "../shared/feature-row.ts";
import type { RowSink } from "./sink.ts";

/** The INSERT of a row setting `features` (by name) in a group's version. */
export function insertCql(group: ServedVersion, features: readonly string[]): string {
  const columns = [...group.entities.map((e) => e.name), ...features, EVENT_TIME_COLUMN].map(quote);
  const marks = columns.map(() => "?").join(", ");
  return `INSERT INTO ${quote(group.keyspace)}.${quote(group.table)} (${columns.join(", ")}) VALUES (${marks}) USING TIMESTAMP ?`;
}

export class CassandraSink implements RowSink {
  readonly name = "cassandra";
  readonly store = "online";
  private readonly client: CassandraClient;
  private readonly concurrency: number;

  constructor(client: CassandraClient, options: { concurrency?: number } = {}) {
    this.client = client;
    this.concurrency = options.concurrency ?? 256;
  }

  async write(group: ServedVersion, rows: readonly FeatureRow[]): Promise<void> {
    const queries = new Map<string, string>();
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++] as FeatureRow;
        const names = row.features.map((f) => f.column.name);
        const shape = names.join(",");
        let query = queries.get(shape);
        if (!query) {
          query = insertCql(group, names);
          queries.set(shape, query);
        }
        const params: CassandraValue[] = [
          ...row.keys,
          ...row.features.map((f) => f.value),
          new Date(Number(row.eventTimeMicros / 1000n)),
          row.eventTimeMicros,
        ];
        await this.client.execute(query, params, { prepare: true });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, rows.length) }, worker));
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }
}
