/**
 * Point-in-time-correct training sets from the offline store: for each entity row (keys and a timestamp),
 * each requested feature's value from the group's latest row with event time at or before the row's
 * timestamp and no older than the group's TTL (ttlSeconds 0: any age), else null. The join is DuckDB's
 * ASOF LEFT JOIN over the group's Parquet files, copied from S3 to a temporary directory first (DuckDB's
 * S3 support is an extension it would download at run time). Only the files of the date partitions that
 * can hold a row the join may take are read (`filesInRange`). A group with rows that set only some of its
 * features (pushed rows, SET_COLUMN) is joined once per feature, each over the rows that set it, so a
 * feature's value is its latest as the online store keeps it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Column } from "../../controllers/feature-group/render/cql.ts";
import { EVENT_TIME_COLUMN } from "../../controllers/feature-group/render/cql.ts";
import { decodeValue, encodeKey, type JsonValue, type KeyType } from "../feature-server/codec.ts";
import { DUCKDB_TYPES, describe, ident, literal, openDuckDb } from "./duckdb.ts";
import { eventDate, versionPrefix } from "./layout.ts";
import { downloadObject, listKeys, type S3Location } from "./s3.ts";
import { type OfflineGroup, SET_COLUMN } from "./writer.ts";

/** One group's part of a training set. */
export interface TrainingSetGroup {
  group: OfflineGroup;
  ttlSeconds: number;
  /** The features to read, and the output column of each. */
  features: Array<{ column: Column; as: string }>;
}

export type EntitySource =
  /** Rows checked with entityRowProblems: keys and an RFC 3339 timestamp. */
  | { kind: "rows"; rows: ReadonlyArray<Record<string, unknown>> }
  /** A local Parquet file: every column is kept, the key columns and the timestamp are checked. */
  | { kind: "parquet"; path: string };

export interface TrainingSetOptions {
  s3: S3Client;
  root: S3Location;
  groups: readonly TrainingSetGroup[];
  entities: EntitySource;
  /** The entity rows' timestamp column. */
  timestampColumn: string;
  /** A local Parquet file to write instead of returning rows. */
  output?: string;
}

export interface TrainingSet {
  columns: string[];
  /** Absent when written to `output`. */
  rows?: Array<Record<string, JsonValue>>;
  rowCount: number;
  /** Offline store files read. */
  files: number;
}

/** A problem with the input, naming the field (a 400 for the HTTP API, a usage error for the CLI). */
export class TrainingSetInputError extends Error {}

/** The entity key columns the groups need (first type wins; a conflicting type is an input error). */
export function entityColumns(groups: readonly TrainingSetGroup[]): Column[] {
  const keys = new Map<string, Column>();
  for (const { group } of groups) {
    for (const entity of group.entities) {
      const known = keys.get(entity.name);
      if (known && known.type !== entity.type) {
        throw new TrainingSetInputError(
          `entity key ${entity.name} is ${known.type} in one group and ${entity.type} in ${group.group}: request them separately`,
        );
      }
      keys.set(entity.name, entity);
    }
  }
  return [...keys.values()];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/** Microseconds since the epoch of an RFC 3339 time (fractions to the microsecond), or undefined. */
export function rfc3339Micros(text: string): bigint | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? "";
  const micros = BigInt(fraction.padEnd(6, "0").slice(3, 6) || "0");
  return BigInt(ms) * 1000n + micros;
}

/** What is wrong with JSON entity rows, each naming the field (at most `limit`). */
export function entityRowProblems(
  rows: ReadonlyArray<Record<string, unknown>>,
  keys: readonly Column[],
  timestampColumn: string,
  field = "entity_rows",
  limit = 10,
): string[] {
  const problems: string[] = [];
  const allowed = new Set([...keys.map((k) => k.name), timestampColumn]);
  for (const [i, row] of rows.entries()) {
    if (problems.length >= limit) break;
    for (const key of keys) {
      if (!(key.name in row)) {
        problems.push(
          `${field}[${i}].${key.name}: missing (every row needs the entity keys ${[...keys.map((k) => k.name)].join(", ")})`,
        );
        continue;
      }
      const encoded = encodeKey(key.type as KeyType, row[key.name]);
      if (!encoded.ok) problems.push(`${field}[${i}].${key.name}: ${encoded.problem}`);
    }
    const ts = row[timestampColumn];
    if (typeof ts !== "string" || rfc3339Micros(ts) === undefined) {
      problems.push(
        `${field}[${i}].${timestampColumn}: must be an RFC 3339 time such as 2026-01-31T12:00:00Z`,
      );
    }
    for (const name of Object.keys(row)) {
      if (!allowed.has(name))
        problems.push(`${field}[${i}].${name}: not an entity key of the requested groups nor the timestamp`);
    }
  }
  return problems.slice(0, limit);
}

/**
 * The as-of join, as SQL over the tables `entities` (with __row) and g0..gN (with __t, and __set: the
 * features a row sets, null for all). A group marked in `partial` is joined once per feature over the rows
 * that set it; the others once. Pure.
 */
export function asOfJoinSql(
  groups: readonly TrainingSetGroup[],
  timestampColumn: string,
  partial: readonly boolean[] = [],
): string {
  const ts = `e.${ident(timestampColumn)}`;
  const selects = ["e.* EXCLUDE (__row)"];
  const joins: string[] = [];
  const join = (alias: string, source: string, keys: readonly Column[]) => {
    const on = keys.map((k) => `e.${ident(k.name)} = ${alias}.${ident(k.name)}`);
    joins.push(`ASOF LEFT JOIN ${source} ON ${[...on, `${ts} >= ${alias}.__t`].join(" AND ")}`);
  };
  const fresh = (alias: string, ttlSeconds: number) =>
    ttlSeconds > 0 ? `${alias}.__t >= ${ts} - INTERVAL ${ttlSeconds} SECOND` : `${alias}.__t IS NOT NULL`;
  groups.forEach(({ group, ttlSeconds, features }, i) => {
    const g = `g${i}`;
    if (!partial[i]) {
      for (const f of features)
        selects.push(
          `CASE WHEN ${fresh(g, ttlSeconds)} THEN ${g}.${ident(f.column.name)} END AS ${ident(f.as)}`,
        );
      join(g, g, group.entities);
      return;
    }
    features.forEach((f, j) => {
      const alias = `${g}_${j}`;
      const name = ident(f.column.name);
      const keys = group.entities.map((k) => ident(k.name)).join(", ");
      selects.push(`CASE WHEN ${fresh(alias, ttlSeconds)} THEN ${alias}.${name} END AS ${ident(f.as)}`);
      join(
        alias,
        `(SELECT ${keys}, __t, ${name} FROM ${g} WHERE __set IS NULL OR list_contains(__set, ${literal(f.column.name)})) ${alias}`,
        group.entities,
      );
    });
  });
  return `SELECT ${selects.join(", ")} FROM entities e ${joins.join(" ")} ORDER BY e.__row`;
}

const DATE_PARTITION = /\/date=(\d{4}-\d{2}-\d{2})\//;

/**
 * The files a training set must read: those of the date partitions that can hold an event at or before
 * `to` (the latest entity row) and at or after `from` (the earliest entity row minus the TTL; undefined
 * when the TTL is 0, values never expire). An older event can only be taken where it is older than the TTL
 * (then null), and no later one ever. Files outside a date partition are kept. Pure.
 */
export function filesInRange(keys: readonly string[], from: bigint | undefined, to: bigint): string[] {
  const first = from === undefined ? undefined : eventDate(from < 0n ? 0n : from);
  const last = eventDate(to);
  return keys.filter((key) => {
    const date = DATE_PARTITION.exec(`/${key}`)?.[1];
    if (date === undefined) return true;
    return date <= last && (first === undefined || date >= first);
  });
}

/** Builds a training set (see the module comment). */
export async function buildTrainingSet(options: TrainingSetOptions): Promise<TrainingSet> {
  const { groups, timestampColumn } = options;
  const keys = entityColumns(groups);
  const dir = await mkdtemp(join(tmpdir(), "darwin-training-"));
  const duckdb = await openDuckDb();
  const { connection } = duckdb;
  try {
    // Entities, with their row number to keep the input's order.
    if (options.entities.kind === "rows") {
      const path = join(dir, "entities.ndjson");
      const lines = options.entities.rows.map((row, i) => {
        const record: Record<string, unknown> = { __row: i };
        for (const k of keys) record[k.name] = k.type === "int64" ? String(row[k.name]) : row[k.name];
        record[timestampColumn] = Number(rfc3339Micros(String(row[timestampColumn])));
        return JSON.stringify(record);
      });
      await writeFile(path, `${lines.join("\n")}\n`);
      const json = [
        `'__row': 'BIGINT'`,
        ...keys.map(
          (k) => `${literal(k.name)}: ${literal(k.type === "int64" ? "VARCHAR" : DUCKDB_TYPES[k.type])}`,
        ),
        `${literal(timestampColumn)}: 'BIGINT'`,
      ].join(", ");
      const select = [
        "__row",
        ...keys.map((k) =>
          k.type === "int64"
            ? `CAST(${ident(k.name)} AS BIGINT) AS ${ident(k.name)}`
            : k.type === "bytes"
              ? `from_base64(${ident(k.name)}) AS ${ident(k.name)}`
              : ident(k.name),
        ),
        `make_timestamp(${ident(timestampColumn)}) AS ${ident(timestampColumn)}`,
      ].join(", ");
      await connection.run(
        `CREATE TEMP TABLE entities AS SELECT ${select} FROM read_json(${literal(path)}, format = 'newline_delimited', columns = {${json}})`,
      );
    } else {
      const source = `read_parquet(${literal(options.entities.path)}, file_row_number = true)`;
      let columns: Array<{ name: string; type: string }>;
      try {
        columns = await describe(connection, `SELECT * FROM ${source}`);
      } catch (err) {
        throw new TrainingSetInputError(`not a readable Parquet file: ${(err as Error).message}`);
      }
      const types = new Map(columns.map((c) => [c.name, c.type]));
      const problems: string[] = [];
      for (const k of keys) {
        const type = types.get(k.name);
        if (type === undefined)
          problems.push(`column ${k.name}: missing (an entity key of the requested groups)`);
        else if (
          type !== DUCKDB_TYPES[k.type] &&
          !(k.type === "int64" && /^(U?(TINY|SMALL)?INT|INTEGER)$/.test(type))
        )
          problems.push(
            `column ${k.name}: is ${type}, the entity key is ${k.type} (${DUCKDB_TYPES[k.type]})`,
          );
      }
      const tsType = types.get(timestampColumn);
      if (tsType === undefined)
        problems.push(`column ${timestampColumn}: missing (the entity rows' timestamp)`);
      else if (!tsType.startsWith("TIMESTAMP"))
        problems.push(`column ${timestampColumn}: is ${tsType}, must be a timestamp`);
      if (problems.length > 0) throw new TrainingSetInputError(problems.join("; "));
      const keyType = new Map(keys.map((k) => [k.name, DUCKDB_TYPES[k.type]]));
      const select = columns
        .filter((c) => c.name !== "file_row_number")
        .map((c) => {
          const cast = c.name === timestampColumn ? "TIMESTAMP" : keyType.get(c.name);
          return cast ? `CAST(${ident(c.name)} AS ${cast}) AS ${ident(c.name)}` : ident(c.name);
        });
      await connection.run(
        `CREATE TEMP TABLE entities AS SELECT file_row_number AS __row, ${select.join(", ")} FROM ${source}`,
      );
    }

    // The entity rows' time span: which date partitions the join can take rows from.
    const span = (
      await connection.runAndReadAll(
        `SELECT epoch_us(min(${ident(timestampColumn)})) AS lo, epoch_us(max(${ident(timestampColumn)})) AS hi FROM entities`,
      )
    ).getRowObjectsJS()[0];
    const lo = span?.lo === null || span?.lo === undefined ? undefined : BigInt(span.lo as bigint);
    const hi = span?.hi === null || span?.hi === undefined ? undefined : BigInt(span.hi as bigint);

    // Each group's rows from the offline store, typed as the group's current schema.
    let files = 0;
    const partial: boolean[] = [];
    for (const [i, { group, ttlSeconds }] of groups.entries()) {
      const columns = [...group.entities, ...group.features];
      await connection.run(
        `CREATE TEMP TABLE g${i} (${[...columns.map((c) => `${ident(c.name)} ${DUCKDB_TYPES[c.type]}`), "__t TIMESTAMP", "__set VARCHAR[]"].join(", ")})`,
      );
      partial.push(false);
      if (hi === undefined || lo === undefined) continue;
      const prefix = versionPrefix(options.root, group);
      const from = ttlSeconds > 0 ? lo - BigInt(ttlSeconds) * 1_000_000n : undefined;
      const keysOfGroup = filesInRange(await listKeys(options.s3, prefix, ".parquet"), from, hi);
      if (keysOfGroup.length === 0) continue;
      const paths: string[] = [];
      for (const [j, key] of keysOfGroup.entries()) {
        const path = join(dir, `g${i}-${j}.parquet`);
        await downloadObject(options.s3, { bucket: prefix.bucket, key }, path);
        paths.push(path);
      }
      files += paths.length;
      const source = `read_parquet([${paths.map(literal).join(", ")}], union_by_name = true)`;
      // Files written before a feature was added lack its column: it reads as null. Files of loaded rows
      // only, or written before rows recorded what they set, lack SET_COLUMN: their rows set every feature.
      const present = new Set((await describe(connection, `SELECT * FROM ${source}`)).map((c) => c.name));
      const select = columns.map((c) =>
        present.has(c.name) ? `CAST(${ident(c.name)} AS ${DUCKDB_TYPES[c.type]})` : "NULL",
      );
      const set = present.has(SET_COLUMN) ? `CAST(${ident(SET_COLUMN)} AS VARCHAR[])` : "NULL";
      await connection.run(
        `INSERT INTO g${i} SELECT ${[...select, ident(EVENT_TIME_COLUMN), set].join(", ")} FROM ${source}`,
      );
      const partly = await connection.runAndReadAll(
        `SELECT count(*) AS n FROM g${i} WHERE __set IS NOT NULL`,
      );
      partial[i] = Number(partly.getRowObjectsJS()[0]?.n ?? 0) > 0;
    }

    const query = asOfJoinSql(groups, timestampColumn, partial);
    if (options.output) {
      await connection.run(
        `COPY (${query}) TO ${literal(options.output)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const counted = await connection.runAndReadAll(
        `SELECT count(*) AS n FROM read_parquet(${literal(options.output)})`,
      );
      const described = await describe(connection, `SELECT * FROM read_parquet(${literal(options.output)})`);
      return {
        columns: described.map((c) => c.name),
        rowCount: Number(counted.getRowObjectsJS()[0]?.n ?? 0),
        files,
      };
    }
    const reader = await connection.runAndReadAll(query);
    const names = reader.columnNames();
    const types = new Map<string, Column["type"]>();
    for (const k of keys) types.set(k.name, k.type);
    for (const g of groups) for (const f of g.features) types.set(f.as, f.column.type);
    const rows = reader.getRowObjectsJS().map((row) => {
      const out: Record<string, JsonValue> = {};
      for (const name of names) out[name] = jsonOf(row[name], types.get(name));
      return out;
    });
    return { columns: names, rows, rowCount: rows.length, files };
  } finally {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A DuckDB value as JSON: by feature type when known, else by its JavaScript type. */
function jsonOf(value: unknown, type: Column["type"] | undefined): JsonValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (type) return decodeValue(type, value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return decodeValue("int64", value);
  if (Array.isArray(value)) return value.map((v) => jsonOf(v, undefined));
  if (typeof value === "object")
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? String(v) : v));
  return value as JsonValue;
}
