/**
 * DuckDB as the offline store uses it: an in-process database per job (no server), UTC session time, and
 * the DuckDB type of each feature type. Only what ships in @duckdb/node-api is used (parquet, json, icu):
 * nothing is downloaded at run time.
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { FeatureType } from "../../controllers/feature-group/render/cql.ts";

/** DuckDB (and so Parquet) type of each feature type. Timestamps are UTC, microseconds. */
export const DUCKDB_TYPES: Record<FeatureType, string> = {
  bool: "BOOLEAN",
  int32: "INTEGER",
  int64: "BIGINT",
  float32: "FLOAT",
  float64: "DOUBLE",
  string: "VARCHAR",
  bytes: "BLOB",
  timestamp: "TIMESTAMP",
  int64_list: "BIGINT[]",
  float32_list: "FLOAT[]",
  float64_list: "DOUBLE[]",
  string_list: "VARCHAR[]",
};

/** A quoted DuckDB identifier. */
export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A DuckDB string literal (file paths in SQL). */
export const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

export interface DuckDb {
  connection: DuckDBConnection;
  close(): void;
}

/** An in-memory DuckDB with the session time zone set to UTC. */
export async function openDuckDb(options: { threads?: number } = {}): Promise<DuckDb> {
  const instance = await DuckDBInstance.create(":memory:", {
    ...(options.threads && { threads: String(options.threads) }),
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Column names and DuckDB types of a query's result. */
export async function describe(
  connection: DuckDBConnection,
  query: string,
): Promise<Array<{ name: string; type: string }>> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${query}`);
  return reader
    .getRowObjectsJS()
    .map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}
