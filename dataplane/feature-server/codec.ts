/**
 * JSON to Cassandra and back, by feature type: key values from requests are checked against their
 * entity's type (and say what is wrong), stored values become plain JSON (int64 as a number when it is
 * exact, else a string; bytes as base64; timestamps as RFC 3339).
 */
import type { FeatureType } from "../../controllers/feature-group/render/cql.ts";

export type KeyType = "int32" | "int64" | "string" | "bytes";

/** A JSON key value converted for the driver, or why it cannot be. */
export type KeyResult =
  | { ok: true; value: number | bigint | string | Buffer }
  | { ok: false; problem: string };

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Converts one request key value for an entity of `type`. */
export function encodeKey(type: KeyType, value: unknown): KeyResult {
  switch (type) {
    case "int32":
      if (typeof value === "number" && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
        return { ok: true, value };
      return { ok: false, problem: `must be an int32 (a whole number from ${INT32_MIN} to ${INT32_MAX})` };
    case "int64": {
      // int64 keys may come as JSON numbers (exact up to 2^53) or as decimal strings (Feast's JSON does both).
      let big: bigint | undefined;
      if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === "string" && /^-?[0-9]{1,19}$/.test(value)) big = BigInt(value);
      if (big !== undefined && big >= INT64_MIN && big <= INT64_MAX) return { ok: true, value: big };
      return { ok: false, problem: "must be an int64 (a whole number, or a decimal string beyond 2^53)" };
    }
    case "string":
      if (typeof value === "string") return { ok: true, value };
      return { ok: false, problem: "must be a string" };
    case "bytes":
      if (typeof value === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0)
        return { ok: true, value: Buffer.from(value, "base64") };
      return { ok: false, problem: "must be base64-encoded bytes" };
  }
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
