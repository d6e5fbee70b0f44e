/** Structural comparison and diffing of JSON values, as the apiserver stores them. */

export type JsonObject = { [key: string]: unknown };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Equality of JSON values: key order does not matter, and a property whose value is undefined equals an
 * absent one (JSON.stringify drops both).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!jsonEqual(a[key], b[key])) return false;
    return true;
  }
  return false;
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`, or undefined when they are equal. Objects
 * are diffed key by key (a key missing from `to` becomes null); arrays and scalars are replaced whole.
 */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (isPlainObject(from) && isPlainObject(to)) {
    const patch: JsonObject = {};
    for (const key of Object.keys(from)) {
      if (from[key] !== undefined && to[key] === undefined) patch[key] = null;
    }
    for (const [key, value] of Object.entries(to)) {
      if (value === undefined) continue;
      const sub = key in from ? createMergePatch(from[key], value) : value;
      if (sub !== undefined) patch[key] = sub;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  return jsonEqual(from, to) ? undefined : to;
}
