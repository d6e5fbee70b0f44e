/**
 * Whether a Parquet file's columns fit a feature group, checked before anything is written: every column
 * must be an entity key, a feature or the event time, of a type that converts to the group's without loss,
 * and every key, feature and the event time must be there: a row is a full observation of the group at
 * its event time, online and in the offline store alike (a partial row would read as nulls in training
 * sets while the online store kept older values). Pure.
 */
import type { Column, FeatureType } from "../../controllers/feature-group/render/cql.ts";

/** DuckDB types (as DESCRIBE names them) each feature type accepts. */
const ACCEPTED: Record<FeatureType, readonly string[]> = {
  bool: ["BOOLEAN"],
  int32: ["TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"],
  int64: ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"],
  float32: ["FLOAT"],
  float64: ["FLOAT", "DOUBLE"],
  string: ["VARCHAR"],
  bytes: ["BLOB"],
  timestamp: ["TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"],
  int64_list: ["BIGINT[]", "INTEGER[]"],
  float32_list: ["FLOAT[]"],
  float64_list: ["FLOAT[]", "DOUBLE[]"],
  string_list: ["VARCHAR[]"],
};

export interface FileColumn {
  name: string;
  /** DuckDB's type name. */
  type: string;
}

export interface GroupColumns {
  entities: readonly Column[];
  features: readonly Column[];
}

/** Every mismatch between the file and the group, each naming the column; empty when it loads. */
export function columnProblems(
  file: readonly FileColumn[],
  group: GroupColumns,
  eventTimeColumn: string,
): string[] {
  const problems: string[] = [];
  const byName = new Map(file.map((c) => [c.name, c.type]));
  const expected = new Map([...group.entities, ...group.features].map((c) => [c.name, c]));
  for (const column of file) {
    if (column.name === eventTimeColumn) {
      if (!ACCEPTED.timestamp.includes(column.type))
        problems.push(`column ${column.name} (the event time) is ${column.type}, it must be a timestamp`);
      continue;
    }
    const want = expected.get(column.name);
    if (!want) {
      problems.push(
        `column ${column.name} is not in the group (entity keys: ${group.entities.map((e) => e.name).join(", ")}; features: ${group.features.map((f) => f.name).join(", ")}): rename or drop it`,
      );
    } else if (!ACCEPTED[want.type].includes(column.type)) {
      problems.push(
        `column ${column.name} is ${column.type}, the group's ${want.name} is ${want.type} (accepted: ${ACCEPTED[want.type].join(", ")})`,
      );
    }
  }
  for (const entity of group.entities)
    if (!byName.has(entity.name)) problems.push(`column ${entity.name} (entity key) is missing`);
  for (const feature of group.features)
    if (!byName.has(feature.name))
      problems.push(`column ${feature.name} (feature, ${feature.type}) is missing`);
  if (!byName.has(eventTimeColumn))
    problems.push(
      `column ${eventTimeColumn} (the event time) is missing (choose another with --event-time-column)`,
    );
  return problems;
}
