/**
 * One row of feature values as it travels through the feature store's write path: pushed over HTTP, carried
 * on a group's Kafka topic, written by the materializer. On the topic a row is a flat JSON object: each
 * entity key, some or all of the features, and `event_time` (RFC 3339, or milliseconds since the epoch):
 *
 *   {"user_id": 123, "age": 31, "activity_score": 0.82, "event_time": "2026-11-27T10:00:00.250Z"}
 *
 * `parseFeatureRow` checks a row against a version's schema and converts it for the Cassandra driver; every
 * problem names the field and what it must be, so the push API can answer 400 with it and the materializer
 * can put it in a dead letter's headers. A feature left out of a row is not written (the stored value
 * stays); a feature given as null is cleared as of the row's event time.
 */
import type { Column, FeatureType, TableSchema } from "../../controllers/feature-group/render/cql.ts";

/** The row field holding the event time (also the table column of the row's newest event time). */
export const EVENT_TIME_FIELD = "event_time";

/** A value the Cassandra driver takes for a column. */
export type CassandraValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | Array<number | bigint | string>;

/** A row checked against its schema, ready to write. */
export interface FeatureRow {
  /** Entity key values in the schema's entity order. */
  keys: CassandraValue[];
  /** The features the row sets, in the schema's order. */
  features: Array<{ column: Column; value: CassandraValue }>;
  /** Event time in microseconds since the epoch: the write timestamp of every value of the row. */
  eventTimeMicros: bigint;
}

export type RowResult = { ok: true; row: FeatureRow } | { ok: false; problem: string };

/** One value converted for the driver, or why it cannot be. */
export type ValueResult = { ok: true; value: CassandraValue } | { ok: false; problem: string };

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_SAFE_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

function int64(value: unknown): bigint | undefined {
  // JSON numbers are exact up to 2^53; beyond that int64 values come as decimal strings.
  let big: bigint | undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
  else if (typeof value === "string" && /^-?[0-9]{1,19}$/.test(value)) big = BigInt(value);
  return big !== undefined && big >= INT64_MIN && big <= INT64_MAX ? big : undefined;
}

const finite = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** Converts one JSON value for a column of `type` (null is not handled here). */
export function encodeValue(type: FeatureType, value: unknown): ValueResult {
  const ok = (v: CassandraValue): ValueResult => ({ ok: true, value: v });
  const no = (problem: string): ValueResult => ({ ok: false, problem });
  switch (type) {
    case "bool":
      return typeof value === "boolean" ? ok(value) : no("must be true or false");
    case "int32":
      return typeof value === "number" && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
        ? ok(value)
        : no(`must be an int32 (a whole number from ${INT32_MIN} to ${INT32_MAX})`);
    case "int64": {
      const big = int64(value);
      return big === undefined
        ? no("must be an int64 (a whole number, or a decimal string beyond 2^53)")
        : ok(big);
    }
    case "float32":
    case "float64":
      return finite(value) ? ok(value) : no(`must be a number (${type})`);
    case "string":
      return typeof value === "string" ? ok(value) : no("must be a string");
    case "bytes":
      return typeof value === "string" && BASE64.test(value) && value.length % 4 === 0
        ? ok(Buffer.from(value, "base64"))
        : no("must be base64-encoded bytes");
    case "timestamp": {
      const micros = parseEventTime(value);
      return typeof micros === "bigint"
        ? ok(new Date(Number(micros / 1000n)))
        : no("must be a time: RFC 3339 (2026-11-27T10:00:00Z) or milliseconds since the epoch");
    }
    case "int64_list": {
      if (!Array.isArray(value)) return no("must be a list of int64");
      const out = value.map(int64);
      const bad = out.indexOf(undefined);
      return bad >= 0 ? no(`item ${bad} must be an int64`) : ok(out as bigint[]);
    }
    case "float32_list":
    case "float64_list": {
      if (!Array.isArray(value)) return no(`must be a list of numbers (${type})`);
      const bad = value.findIndex((v) => !finite(v));
      return bad >= 0 ? no(`item ${bad} must be a number`) : ok(value as number[]);
    }
    case "string_list": {
      if (!Array.isArray(value)) return no("must be a list of strings");
      const bad = value.findIndex((v) => typeof v !== "string");
      return bad >= 0 ? no(`item ${bad} must be a string`) : ok(value as string[]);
    }
  }
}

const TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An event time in microseconds since the epoch: an RFC 3339 string (a space for the `T` and a missing
 * zone, meaning UTC, are accepted, as pandas writes them; fractions to the microsecond are kept), or a
 * number of milliseconds since the epoch. Undefined when it is neither.
 */
export function parseEventTime(value: unknown): bigint | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? BigInt(Math.round(value * 1000)) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = TIME.exec(value.trim());
  if (!match) return undefined;
  const [, date, time, fraction = "", zone = "Z"] = match;
  const offset =
    zone.toUpperCase() === "Z" ? "Z" : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = Date.parse(`${date}T${time}${offset}`);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  const micros = Number(`${fraction}000000`.slice(0, 6));
  // Whole microseconds are exact as a number until the year 2255; BigInt arithmetic only beyond.
  const total = ms * 1000 + micros;
  return Number.isSafeInteger(total) ? BigInt(total) : BigInt(ms) * 1000n + BigInt(micros);
}

/** An event time as RFC 3339 with microseconds. */
export function formatEventTime(micros: bigint): string {
  let seconds: number;
  let fraction: number;
  if (micros <= MAX_SAFE_MICROS) {
    const n = Number(micros);
    fraction = n % 1_000_000;
    seconds = (n - fraction) / 1_000_000;
  } else {
    fraction = Number(micros % 1_000_000n);
    seconds = Number(micros / 1_000_000n);
  }
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(fraction).padStart(6, "0")}Z`;
}

export interface ParseRowOptions {
  /** Now, in ms since the epoch. @default Date.now() */
  now?: number;
  /**
   * How far in the future an event time may be, in ms (clock skew). A value written with a far-future
   * write time could never be overwritten. @default one hour
   */
  maxFutureMs?: number;
  /** Where the row is, for messages: `rows[3]`. @default "row" */
  at?: string;
}

/** Each schema's column names, gathered once per schema object rather than once per row. */
const COLUMN_NAMES = new WeakMap<TableSchema, ReadonlySet<string>>();

function columnNames(schema: TableSchema): ReadonlySet<string> {
  let names = COLUMN_NAMES.get(schema);
  if (!names) {
    names = new Set([...schema.entities, ...schema.features].map((c) => c.name));
    COLUMN_NAMES.set(schema, names);
  }
  return names;
}

/** Checks a JSON row against `schema` and converts it; the problem names the first bad field. */
export function parseFeatureRow(
  schema: TableSchema,
  input: unknown,
  options: ParseRowOptions = {},
): RowResult {
  const at = options.at ?? "row";
  const no = (problem: string): RowResult => ({ ok: false, problem: `${at}${problem}` });
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return no(" must be a JSON object of entity keys, features and event_time");
  const row = input as Record<string, unknown>;
  const known = columnNames(schema);
  for (const field in row) {
    if (field !== EVENT_TIME_FIELD && !known.has(field))
      return no(
        `.${field}: not a column of the group (entity keys: ${schema.entities.map((e) => e.name).join(", ")}; features: ${schema.features.map((f) => f.name).join(", ")})`,
      );
  }
  const keys: CassandraValue[] = [];
  for (const entity of schema.entities) {
    const value = row[entity.name];
    if (value === undefined || value === null) return no(`.${entity.name}: the entity key is missing`);
    const encoded = encodeValue(entity.type, value);
    if (!encoded.ok) return no(`.${entity.name}: ${encoded.problem}, got ${JSON.stringify(value)}`);
    keys.push(encoded.value);
  }
  const features: FeatureRow["features"] = [];
  for (const column of schema.features) {
    if (!(column.name in row)) continue;
    const value = row[column.name];
    if (value === null) {
      features.push({ column, value: null });
      continue;
    }
    const encoded = encodeValue(column.type, value);
    if (!encoded.ok)
      return no(`.${column.name}: ${encoded.problem}, got ${JSON.stringify(value)?.slice(0, 100)}`);
    features.push({ column, value: encoded.value });
  }
  if (features.length === 0)
    return no(`: sets no feature (features: ${schema.features.map((f) => f.name).join(", ")})`);
  const rawTime = row[EVENT_TIME_FIELD];
  if (rawTime === undefined || rawTime === null)
    return no(
      `.${EVENT_TIME_FIELD}: missing; every row needs its event time (RFC 3339 or epoch milliseconds)`,
    );
  const eventTimeMicros = parseEventTime(rawTime);
  if (eventTimeMicros === undefined)
    return no(
      `.${EVENT_TIME_FIELD}: ${JSON.stringify(rawTime)} is not a time: RFC 3339 (2026-11-27T10:00:00Z) or milliseconds since the epoch`,
    );
  const now = options.now ?? Date.now();
  const maxFuture = options.maxFutureMs ?? 3_600_000;
  if (eventTimeMicros > BigInt(Math.round((now + maxFuture) * 1000)))
    return no(
      `.${EVENT_TIME_FIELD}: ${formatEventTime(eventTimeMicros)} is more than ${Math.round(maxFuture / 1000)} s in the future; a value written with a future time could not be overwritten until then`,
    );
  return { ok: true, row: { keys, features, eventTimeMicros } };
}
