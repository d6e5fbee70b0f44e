/**
 * JSON to Cassandra and back, by feature type: key values from requests are checked against their
 * entity's type (and say what is wrong), stored values become plain JSON (int64 as a number when it is
 * exact, else a string; bytes as base64; timestamps as RFC 3339).
 */
import type { FeatureType } from "../../controllers/feature-group/render/cql.ts";
import { encodeValue } from "../shared/feature-row.ts";

export type KeyType = "int32" | "int64" | "string" | "bytes";

/** A JSON key value converted for the driver, or why it cannot be. */
export type KeyResult =
  | { ok: true; value: number | bigint | string | Buffer }
  | { ok: false; problem: string };

/** Converts one request key value for an entity of `type` (the write path's conversion, keys only). */
export function encodeKey(type: KeyType, value: unknown): KeyResult {
  return encodeValue(type, value) as KeyResult;
}

export type JsonValue = null | boolean | number | string | JsonValue[];

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
function float32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function int64(value: unknown): number | string {
  const big = typeof value === "bigint" ? value : BigInt(String(value));
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big.toString();
}

/** A stored value (as the driver returns it, bigint for bigint columns) as JSON. */
export function decodeValue(type: FeatureType, value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "bool":
    case "int32":
    case "float64":
    case "string":
      return value as JsonValue;
    case "int64":
      return int64(value);
    case "float32":
      return float32(value as number);
    case "bytes":
      return (value as Buffer).toString("base64");
    case "timestamp":
      return (value as Date).toISOString();
    case "int64_list":
      return (value as unknown[]).map(int64);
    case "float32_list":
      return (value as number[]).map(float32);
    case "float64_list":
    case "string_list":
      return value as JsonValue[];
  }
}

/** A key value as the response echoes it (int64 keys as numbers when exact). */
export function decodeKey(type: KeyType, value: number | bigint | string | Buffer): JsonValue {
  if (type === "int64") return int64(value);
  if (type === "bytes") return (value as Buffer).toString("base64");
  return value as JsonValue;
}
