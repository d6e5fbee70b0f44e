/**
 * The populator: loads a Parquet file into a feature group version's online table (Cassandra) and the
 * offline store. The file's columns are checked against the group first (columns.ts), and rows with a
 * null entity key or event time are counted: any problem rejects the file before a single write. Each
 * row is then written with its own event time as the write timestamp (`USING TIMESTAMP`), so a row never
 * overwrites a newer one whatever the order of loads and streams, and a reload is idempotent.
 *
 * The file is read with DuckDB (chosen by bench/parquet-read: see the README's design section), in
 * chunks, so memory stays flat whatever the file's size.
 */
import type { Client as CassandraClient } from "cassandra-driver";
import { concurrent } from "cassandra-driver";
import type { Column } from "../../controllers/feature-group/render/cql.ts";
import { EVENT_TIME_COLUMN, quote } from "../../controllers/feature-group/render/cql.ts";
import { DUCKDB_TYPES, describe, ident, literal, openDuckDb } from "../offline-store/duckdb.ts";
import type { OfflineGroup, OfflineRow, OfflineStoreWriter } from "../offline-store/writer.ts";
import { columnProblems } from "./columns.ts";
import type { Progress } from "./progress.ts";

/** The group version to load into. */
export interface LoadTarget extends OfflineGroup {
  keyspace: string;
  table: string;
}

export interface LoadOptions {
  /** A local Parquet file. */
  path: string;
  target: LoadTarget;
  cassandra: CassandraClient;
  /** Where rows also go; none: the online table only. */
  offline?: OfflineStoreWriter;
  /**
   * The file's event time column.
   * @default "event_time"
   */
  eventTimeColumn?: string;
  /**
   * Cassandra writes in flight.
   * @default 64
   */
  concurrency?: number;
  /** Called after each chunk of rows (about 2,048) is written. */
  onProgress?: (progress: Progress) => void;
}

/** The file does not fit the group; nothing was written. */
export class LoadRejected extends Error {
  readonly problems: string[];

  constructor(file: string, problems: string[]) {
    super(`${file} does not fit the group, nothing was written:\n  ${problems.join("\n  ")}`);
    this.name = "LoadRejected";
    this.problems = problems;
  }
}

export interface LoadResult {
  rows: number;
  elapsedMs: number;
}

/** The INSERT of one row: keys, features, the event time column, the event time as write timestamp. */
export function insertCql(target: LoadTarget): string {
  const columns = [...target.entities, ...target.features].map((c) => quote(c.name));
  columns.push(quote(EVENT_TIME_COLUMN));
  return `INSERT INTO ${quote(target.keyspace)}.${quote(target.table)} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) USING TIMESTAMP ?`;
}

/** A DuckDB value as the Cassandra driver takes it for a column of `type`. */
function driverValue(type: Column["type"], value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === "bytes") return Buffer.from(value as Uint8Array);
  return value;
}

export async function loadParquet(options: LoadOptions): Promise<LoadResult> {
  const { target, path } = options;
  const eventTime = options.eventTimeColumn ?? EVENT_TIME_COLUMN;
  const columns = [...target.entities, ...target.features];
  const duckdb = await openDuckDb();
  const { connection } = duckdb;
  try {
    const source = `read_parquet(${literal(path)})`;
    let fileColumns: Array<{ name: string; type: string }>;
    try {
      fileColumns = await describe(connection, `SELECT * FROM ${source}`);
    } catch (err) {
      throw new LoadRejected(path, [`not a readable Parquet file: ${(err as Error).message}`]);
    }
    const problems = columnProblems(fileColumns, target, eventTime);
    if (problems.length > 0) throw new LoadRejected(path, problems);

    const required = [...target.entities.map((e) => e.name), eventTime];
    const nulls = await connection.runAndReadAll(
      `SELECT count(*) AS total, ${required.map((name, i) => `count(*) FILTER (WHERE ${ident(name)} IS NULL) AS n${i}`).join(", ")} FROM ${source}`,
    );
    const counts = nulls.getRowObjectsJS()[0] ?? {};
    const total = Number(counts.total ?? 0);
    const nullProblems = required
      .map((name, i) => [name, Number(counts[`n${i}`] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .map(
        ([name, n]) => `column ${name}: ${n} rows are null (every row needs its entity keys and event time)`,
      );
    if (nullProblems.length > 0) throw new LoadRejected(path, nullProblems);

    const select = [
      ...columns.map((c) => `CAST(${ident(c.name)} AS ${DUCKDB_TYPES[c.type]}) AS ${ident(c.name)}`),
      `epoch_us(CAST(${ident(eventTime)} AS TIMESTAMP)) AS __event_us`,
    ].join(", ");
    const result = await connection.stream(`SELECT ${select} FROM ${source}`);
    const cql = insertCql(target);
    const started = performance.now();
    let rows = 0;
    for await (const chunk of result.yieldRowObjectJs()) {
      const params: unknown[][] = [];
      const offline: OfflineRow[] = [];
      for (const row of chunk) {
        const micros = row.__event_us as bigint;
        const values = columns.map((c) => driverValue(c.type, row[c.name]));
        params.push([...values, new Date(Number(micros / 1000n)), micros]);
        if (options.offline) {
          const record: Record<string, unknown> = {};
          for (const c of columns) record[c.name] = row[c.name];
          offline.push({ values: record, eventMicros: micros });
        }
      }
      const outcome = await concurrent.executeConcurrent(options.cassandra, cql, params, {
        concurrencyLevel: options.concurrency ?? 64,
        raiseOnFirstError: true,
      });
      if (outcome.errors.length > 0) throw outcome.errors[0];
      await options.offline?.append(target, offline);
      rows += chunk.length;
      options.onProgress?.({ rows, total, elapsedMs: performance.now() - started });
    }
    await options.offline?.flush();
    return { rows, elapsedMs: performance.now() - started };
  } finally {
    duckdb.close();
  }
}
