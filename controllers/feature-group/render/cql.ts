/**
 * The CQL a FeatureGroup becomes: its keyspace, the table of one version (entity keys as the composite
 * partition key, one typed column per feature, the event time), and the ALTERs that add features in place.
 * Pure: statements are strings built from the spec and the operator's replication settings.
 */
import { createHash } from "node:crypto";
import type { FEATURE_TYPES } from "../../../crds/src/feature-group.ts";
import type { FeatureStoreConfig } from "../config.ts";

export type FeatureType = (typeof FEATURE_TYPES)[number];

export interface Column {
  name: string;
  type: FeatureType;
}

/** The parts of a FeatureGroup spec that make its table. */
export interface TableSchema {
  entities: readonly Column[];
  features: readonly Column[];
}

export type Replication = FeatureStoreConfig["cassandra"]["replication"];

/** The column holding the event time of the row's newest write. */
export const EVENT_TIME_COLUMN = "event_time";

/**
 * CQL type of each feature type. Lists are frozen: a feature value is replaced whole, and only frozen
 * collections have a WRITETIME, which the server reads as each value's event time.
 */
export const CQL_TYPES: Record<FeatureType, string> = {
  bool: "boolean",
  int32: "int",
  int64: "bigint",
  float32: "float",
  float64: "double",
  string: "text",
  bytes: "blob",
  timestamp: "timestamp",
  int64_list: "frozen<list<bigint>>",
  float32_list: "frozen<list<float>>",
  float64_list: "frozen<list<double>>",
  string_list: "frozen<list<text>>",
};

/** A quoted identifier: feature names such as `select` or `_score` are valid CQL only when quoted. */
export const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function createKeyspaceCql(keyspace: string, replication: Replication): string {
  const options =
    replication.class === "SimpleStrategy"
      ? `{'class': 'SimpleStrategy', 'replication_factor': ${replication.replicationFactor}}`
      : `{'class': 'NetworkTopologyStrategy', ${Object.entries(replication.dataCenters)
          .map(([dc, rf]) => `'${dc.replaceAll("'", "''")}': ${rf}`)
          .join(", ")}}`;
  return `CREATE KEYSPACE IF NOT EXISTS ${quote(keyspace)} WITH replication = ${options}`;
}

export function createTableCql(keyspace: string, table: string, schema: TableSchema): string {
  const columns = [
    ...schema.entities.map((e) => `${quote(e.name)} ${CQL_TYPES[e.type]}`),
    ...schema.features.map((f) => `${quote(f.name)} ${CQL_TYPES[f.type]}`),
    `${quote(EVENT_TIME_COLUMN)} timestamp`,
  ];
  const key = schema.entities.map((e) => quote(e.name)).join(", ");
  return `CREATE TABLE IF NOT EXISTS ${quote(keyspace)}.${quote(table)} (${columns.join(", ")}, PRIMARY KEY ((${key})))`;
}

/** A column of the live table: its name and CQL type as system_schema.columns reports it. */
export interface LiveColumn {
  name: string;
  type: string;
}

export interface TableChanges {
  /** ALTER TABLE statements adding the features the live table lacks. */
  statements: string[];
  /** Columns whose live type differs from the spec's: the table cannot serve this version. */
  conflicts: string[];
}

/**
 * What it takes to bring a live table in line with the spec: features are added in place; a column of the
 * wrong type (a table left from an earlier group of the same name) is a conflict; removed features keep
 * their column (their data stays, nothing serves it).
 */
export function tableChanges(
  keyspace: string,
  table: string,
  schema: TableSchema,
  live: readonly LiveColumn[],
): TableChanges {
  const liveTypes = new Map(live.map((c) => [c.name, c.type.replaceAll(" ", "")]));
  const statements: string[] = [];
  const conflicts: string[] = [];
  for (const column of [...schema.entities, ...schema.features]) {
    const want = CQL_TYPES[column.type];
    const have = liveTypes.get(column.name);
    if (have === undefined) {
      if (schema.features.includes(column))
        statements.push(`ALTER TABLE ${quote(keyspace)}.${quote(table)} ADD ${quote(column.name)} ${want}`);
      else conflicts.push(`${column.name} (entity key) is missing`);
    } else if (have !== want.replaceAll(" ", "")) {
      conflicts.push(`${column.name} is ${have}, the spec says ${column.type} (${want})`);
    }
  }
  return { statements, conflicts };
}

/** Hash of the entity and feature names and types (descriptions do not change the data). */
export function schemaHash(schema: TableSchema): string {
  const canonical = JSON.stringify({
    entities: schema.entities.map((e) => [e.name, e.type]),
    features: schema.features.map((f) => [f.name, f.type]),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
