/**
 * The offline store's writer: every row loaded into a feature group, and every row the materializer takes
 * from a feature topic (pushed or streamed), is also appended here, and lands in S3 as Parquet partitioned by tenant, group, version and
 * event date (see layout.ts).
 *
 * The interface for writers (the populator and the materializer's OfflineStoreSink):
 *
 *   const writer = new OfflineStoreWriter({ s3, root: parseS3Uri("s3://bucket/prefix"), maxRows, maxAgeMs });
 *   await writer.append(group, rows);   // group: namespace, Kubernetes name, version, entities, features
 *                                       // rows: { values: { column: value }, eventMicros: bigint }
 *   await writer.flush();               // e.g. before committing the Kafka offsets the rows came from
 *   await writer.close();               // flushes what is buffered
 *
 * Values are what the Cassandra driver and DuckDB hand out: number, bigint (int64), string, boolean,
 * Buffer or Uint8Array (bytes), Date (timestamp), arrays (lists); a missing column is null. A partition is
 * written when it holds `maxRows` rows (from `append`, which then waits for the upload) or when its oldest
 * row has waited `maxAgeMs` (a timer). A row is durable once `flush()` (or the `append` that filled its
 * partition) has resolved: a caller that must not lose rows (Kafka offsets) commits only after that.
 * Files are never rewritten, so a replay appends duplicates with the same event time; readers take one
 * value per key and event time.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import type { Column } from "../../controllers/feature-group/render/cql.ts";
import { EVENT_TIME_COLUMN } from "../../controllers/feature-group/render/cql.ts";
import { DUCKDB_TYPES, type DuckDb, ident, literal, openDuckDb } from "./duckdb.ts";
import { eventDate, fileLocation, type PartitionId } from "./layout.ts";
import { ensureBucket, type S3Location, s3Uri, uploadFile } from "./s3.ts";

/** One version of a group, as the offline store writes it. */
export interface OfflineGroup extends PartitionId {
  entities: readonly Column[];
  features: readonly Column[];
}

export interface OfflineRow {
  /** Entity keys and feature values by column name. */
  values: Record<string, unknown>;
  /** Event time, microseconds since the epoch (UTC). */
  eventMicros: bigint;
  /**
   * The features the row sets, when not all: a pushed row may carry some features only, and the others
   * keep their earlier values (a null value is a value: cleared). Stored in SET_COLUMN; unset: all.
   */
  set?: readonly string[];
}

/**
 * The column listing the features a row sets (null: every feature). Its name starts with `__`, which the
 * training sets' own columns use and the features of a group do not (see FeatureGroup's column names).
 */
export const SET_COLUMN = "__darwin_set";

export interface OfflineWriterOptions {
  s3: S3Client;
  /** Bucket and key prefix of the store. */
  root: S3Location;
  /**
   * Rows of one partition that trigger its write.
   * @default 100000
   */
  maxRows?: number;
  /**
   * Longest a buffered row waits before its partition is written.
   * @default 60000
   */
  maxAgeMs?: number;
  log?: Logger;
}

export interface WrittenFile {
  uri: string;
  rows: number;
}

interface Buffer_ {
  group: OfflineGroup;
  date: string;
  rows: OfflineRow[];
  since: number;
}

/** A cell as JSON for DuckDB's read_json: int64 as a decimal string, bytes base64, times in µs. */
function jsonCell(type: Column["type"], value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "int64":
      return String(value);
    case "int64_list":
      return (value as unknown[]).map(String);
    case "bytes":
      return Buffer.from(value as Uint8Array).toString("base64");
    case "timestamp":
      return (value instanceof Date ? value.getTime() : Date.parse(String(value))) * 1000;
    default:
      return value;
  }
}

/** How read_json reads a column, and the SQL that turns it into the stored type. */
function columnSql(column: Column): { json: string; select: string } {
  const name = ident(column.name);
  switch (column.type) {
    case "int64":
      return { json: "VARCHAR", select: `CAST(${name} AS BIGINT) AS ${name}` };
    case "int64_list":
      return { json: "VARCHAR[]", select: `CAST(${name} AS BIGINT[]) AS ${name}` };
    case "bytes":
      return { json: "VARCHAR", select: `from_base64(${name}) AS ${name}` };
    case "timestamp":
      return { json: "BIGINT", select: `make_timestamp(${name}) AS ${name}` };
    default:
      return { json: DUCKDB_TYPES[column.type], select: name };
  }
}

function row0(rows: readonly OfflineRow[]): OfflineRow {
  const [first] = rows;
  if (!first) throw new Error("no rows to write");
  return first;
}

export class OfflineStoreWriter {
  private readonly options: Required<Omit<OfflineWriterOptions, "log">> & { log?: Logger };
  private readonly buffers = new Map<string, Buffer_>();
  private readonly timer: NodeJS.Timeout;
  private duckdb: Promise<DuckDb> | undefined;
  private bucketReady: Promise<void> | undefined;
  /** Writes run one at a time (one DuckDB connection). */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  readonly written: WrittenFile[] = [];

  constructor(options: OfflineWriterOptions) {
    this.options = { maxRows: 100_000, maxAgeMs: 60_000, ...options };
    this.timer = setInterval(() => this.flushOld(), Math.max(100, Math.min(this.options.maxAgeMs, 5000)));
    this.timer.unref();
  }

  /** Buffers rows; writes (and waits for) the partitions that reached maxRows. */
  async append(group: OfflineGroup, rows: readonly OfflineRow[]): Promise<void> {
    this.throwIfFailed();
    const full: Buffer_[] = [];
    for (const row of rows) {
      const date = eventDate(row.eventMicros);
      const key = `${group.namespace}/${group.group}/${group.version}/${date}`;
      let buffer = this.buffers.get(key);
      if (!buffer) {
        buffer = { group, date, rows: [], since: Date.now() };
        this.buffers.set(key, buffer);
      }
      // The newest schema of the version wins (a feature added in place while rows are buffered).
      buffer.group = group;
      buffer.rows.push(row);
      if (buffer.rows.length >= this.options.maxRows) {
        this.buffers.delete(key);
        full.push(buffer);
      }
    }
    await Promise.all(full.map((b) => this.enqueue(b)));
  }

  /** Writes every buffered row; resolves when they are in S3. */
  async flush(): Promise<void> {
    const all = [...this.buffers.values()];
    this.buffers.clear();
    await Promise.all(all.map((b) => this.enqueue(b)));
    this.throwIfFailed();
  }

  /** Flushes and releases DuckDB. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.duckdb) (await this.duckdb).close();
  }

  private throwIfFailed(): void {
    if (this.failure) throw new Error(`the offline store could not be written: ${String(this.failure)}`);
  }

  private flushOld(): void {
    const now = Date.now();
    for (const [key, buffer] of this.buffers) {
      if (now - buffer.since < this.options.maxAgeMs) continue;
      this.buffers.delete(key);
      this.enqueue(buffer).catch((err: unknown) => {
        this.failure = err;
        this.options.log?.error({ err: String(err) }, "Could not write offline store partition");
      });
    }
  }

  private enqueue(buffer: Buffer_): Promise<void> {
    const run = this.queue.then(() => this.write(buffer));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(buffer: Buffer_): Promise<void> {
    const { group, rows } = buffer;
    if (rows.length === 0) return;
    this.duckdb ??= openDuckDb({ threads: 1 });
    const { connection } = await this.duckdb;
    this.bucketReady ??= ensureBucket(this.options.s3, this.options.root.bucket);
    await this.bucketReady.catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    const columns = [...group.entities, ...group.features];
    const dir = await mkdtemp(join(tmpdir(), "darwin-offline-"));
    try {
      const input = join(dir, "rows.ndjson");
      const output = join(dir, "part.parquet");
      const lines = rows.map((row) => {
        const record: Record<string, unknown> = {
          [EVENT_TIME_COLUMN]: Number(row.eventMicros),
          [SET_COLUMN]: row.set ?? null,
        };
        for (const c of columns) record[c.name] = jsonCell(c.type, row.values[c.name]);
        return JSON.stringify(record);
      });
      await writeFile(input, `${lines.join("\n")}\n`);
      const sql = columns.map(columnSql);
      const jsonColumns = [
        ...columns.map((c, i) => `${literal(c.name)}: ${literal(sql[i]?.json ?? "VARCHAR")}`),
        `${literal(EVENT_TIME_COLUMN)}: 'BIGINT'`,
        `${literal(SET_COLUMN)}: 'VARCHAR[]'`,
      ].join(", ");
      const select = [
        ...sql.map((s) => s.select),
        `make_timestamp(${ident(EVENT_TIME_COLUMN)}) AS ${ident(EVENT_TIME_COLUMN)}`,
        ident(SET_COLUMN),
      ].join(", ");
      await connection.run(
        `COPY (SELECT ${select} FROM read_json(${literal(input)}, format = 'newline_delimited', columns = {${jsonColumns}})) TO ${literal(output)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      let first = row0(rows).eventMicros;
      for (const r of rows) if (r.eventMicros < first) first = r.eventMicros;
      const location = fileLocation(this.options.root, group, buffer.date, first, randomUUID().slice(0, 8));
      await uploadFile(this.options.s3, output, location);
      this.written.push({ uri: s3Uri(location), rows: rows.length });
      this.options.log?.info(
        { uri: s3Uri(location), rows: rows.length, namespace: group.namespace, group: group.group },
        "Wrote offline store file",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
