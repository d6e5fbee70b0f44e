/**
 * The read path: one prepared single-partition SELECT per entity key, all keys concurrently. The driver
 * routes each to a replica owning the partition (token-aware: prepared statements carry their routing
 * key). Each feature's write time is its event time (writers write with `USING TIMESTAMP <event time>`),
 * so TTL is judged per value: older than ttlSeconds comes back null with OUTSIDE_MAX_AGE, never as fresh.
 */
import { type Client as CassandraClient, errors, type types } from "cassandra-driver";
import { type Column, quote } from "../../controllers/feature-group/render/cql.ts";
import { decodeValue, type JsonValue } from "./codec.ts";
import { RequestError, type ServedVersion } from "./groups.ts";

export type ValueStatus = "PRESENT" | "NOT_FOUND" | "OUTSIDE_MAX_AGE";

export interface FeatureValue {
  value: JsonValue;
  status: ValueStatus;
  /** The value's event time (its write time); undefined when there is no value. */
  eventTime: Date | undefined;
}

export type KeyValue = number | bigint | string | Buffer;

/** Seconds a client should wait before retrying while Cassandra is unreachable. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * How the keys of one request are read: `per-key`, one single-partition SELECT per key, concurrently;
 * `in`, one SELECT with `IN` over the partition list (groups with one entity key; others read per key).
 */
export type ReadPattern = "per-key" | "in";

/** The SELECT of some features of a group's version by full partition key (or `IN` a list of keys). */
export function selectCql(
  group: ServedVersion,
  features: readonly Column[],
  pattern: ReadPattern = "per-key",
): string {
  const columns = features.flatMap((f) => [quote(f.name), `WRITETIME(${quote(f.name)})`]);
  const table = `${quote(group.keyspace)}.${quote(group.table)}`;
  if (pattern === "in") {
    const key = quote(group.entities[0]?.name ?? "");
    return `SELECT ${columns.join(", ")}, ${key} FROM ${table} WHERE ${key} IN ?`;
  }
  const where = group.entities.map((e) => `${quote(e.name)} = ?`).join(" AND ");
  return `SELECT ${columns.join(", ")} FROM ${table} WHERE ${where}`;
}

/** A key value as a Map key (bigint, string and bytes alike). */
const keyId = (value: unknown) =>
  Buffer.isBuffer(value) ? `b:${value.toString("hex")}` : `${typeof value}:${String(value)}`;

/** Whether a driver error means Cassandra is unreachable or overloaded (retry later), not a bad request. */
export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof errors.NoHostAvailableError || err instanceof errors.OperationTimedOutError) return true;
  if (err instanceof errors.ResponseError) {
    const code = err.code;
    // unavailable, overloaded, is_bootstrapping, read/write timeouts and failures
    return [0x1000, 0x1001, 0x1002, 0x1100, 0x1200, 0x1300, 0x1500].includes(code);
  }
  return err instanceof errors.DriverInternalError;
}

export interface FeatureReaderOptions {
  /** @default Date.now */
  now?: () => number;
  /** Told the duration of every batch of store reads, in seconds, and whether it failed. */
  observe?: (seconds: number, outcome: "ok" | "error") => void;
  /** @default "per-key" */
  pattern?: ReadPattern;
}

export class FeatureReader {
  private readonly client: CassandraClient;
  private readonly now: () => number;
  private readonly observe: FeatureReaderOptions["observe"];
  private readonly pattern: ReadPattern;

  constructor(client: CassandraClient, options: FeatureReaderOptions = {}) {
    this.client = client;
    this.now = options.now ?? Date.now;
    this.observe = options.observe;
    this.pattern = options.pattern ?? "per-key";
  }

  /** Values of `features` for each key (keys[i] in entity order); result[i][j] is key i, feature j. */
  async read(
    group: ServedVersion,
    features: readonly Column[],
    keys: KeyValue[][],
  ): Promise<FeatureValue[][]> {
    const now = this.now();
    const maxAgeMs = group.ttlSeconds > 0 ? group.ttlSeconds * 1000 : Number.POSITIVE_INFINITY;
    const started = performance.now();
    try {
      let rows: FeatureValue[][];
      if (this.pattern === "in" && group.entities.length === 1 && keys.length > 1) {
        const result = await this.client.execute(
          selectCql(group, features, "in"),
          [keys.map((key) => key[0])],
          { prepare: true },
        );
        const byKey = new Map(result.rows.map((row) => [keyId(row.get(2 * features.length)), row]));
        rows = keys.map((key) => decodeRow(byKey.get(keyId(key[0])) ?? null, features, now, maxAgeMs));
      } else {
        const query = selectCql(group, features);
        rows = await Promise.all(
          keys.map(async (key) => {
            const result = await this.client.execute(query, key, { prepare: true });
            return decodeRow(result.first(), features, now, maxAgeMs);
          }),
        );
      }
      this.observe?.((performance.now() - started) / 1000, "ok");
      return rows;
    } catch (err) {
      this.observe?.((performance.now() - started) / 1000, "error");
      if (isStoreUnavailable(err)) {
        throw new RequestError(
          503,
          "STORE_UNAVAILABLE",
          `the online store (Cassandra) is unavailable: ${(err as Error).message}`,
          STORE_RETRY_AFTER_SECONDS,
        );
      }
      if (err instanceof errors.ResponseError && err.code === 0x2200) {
        throw new RequestError(
          503,
          "GROUP_NOT_READY",
          `the table ${group.keyspace}.${group.table} of feature group "${group.name}" is not readable: ${err.message}`,
          5,
        );
      }
      throw err;
    }
  }
}

function decodeRow(
  row: types.Row | null,
  features: readonly Column[],
  now: number,
  maxAgeMs: number,
): FeatureValue[] {
  return features.map((feature, j) => {
    const raw = row?.get(2 * j);
    if (row === null || raw === null || raw === undefined)
      return { value: null, status: "NOT_FOUND", eventTime: undefined };
    const micros = row.get(2 * j + 1) as bigint | types.Long | null;
    const eventTime = micros === null ? undefined : new Date(Number(BigInt(micros.toString()) / 1000n));
    if (eventTime && now - eventTime.getTime() > maxAgeMs)
      return { value: null, status: "OUTSIDE_MAX_AGE", eventTime };
    return { value: decodeValue(feature.type, raw), status: "PRESENT", eventTime };
  });
}
