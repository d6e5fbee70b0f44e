/**
 * Reads what one field manager applied, from an object's managedFields (FieldsV1), the way client-go's
 * Extract* functions do. Comparing that with what the manager would apply now tells whether an apply would
 * change anything: same fields, same values, and no field the manager stopped applying (which an apply
 * would remove). Defaults the server added are not the manager's, so they do not count as differences.
 */
import { isPlainObject, type JsonObject, jsonEqual } from "./json.ts";
import type { KubeObject } from "./resource.ts";

const fieldsEntry = (value: unknown) =>
  isPlainObject(value) &&
  typeof value.manager === "string" &&
  (value.operation === "Apply" || value.operation === "Update");

/**
 * The part of `live` that `manager` owns through apply (subresource-less), or undefined when it has applied
 * nothing to this object at `apiVersion`.
 */
export function extractApplied(
  live: KubeObject,
  manager: string,
  apiVersion: string,
): JsonObject | undefined {
  const entry = live.metadata.managedFields?.find(
    (e) =>
      fieldsEntry(e) &&
      e.manager === manager &&
      e.operation === "Apply" &&
      !e.subresource &&
      e.apiVersion === apiVersion,
  );
  if (!entry || !isPlainObject(entry.fieldsV1)) return undefined;
  const extracted = extract(live, entry.fieldsV1);
  return isPlainObject(extracted) ? extracted : undefined;
}

function isLeaf(fields: JsonObject): boolean {
  return Object.keys(fields).every((k) => k === ".");
}

function extract(value: unknown, fields: JsonObject): unknown {
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [path, child] of Object.entries(fields)) {
      if (!path.startsWith("f:") || !isPlainObject(child)) continue;
      const name = path.slice(2);
      if (!(name in value)) continue;
      out[name] = isLeaf(child) ? value[name] : extract(value[name], child);
    }
    return out;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    // Keep the live order: it is the order the apply produced.
    for (const item of value) {
      for (const [path, child] of Object.entries(fields)) {
        if (!isPlainObject(child)) continue;
        if (path.startsWith("k:") && isPlainObject(item) && matchesKey(item, JSON.parse(path.slice(2)))) {
          out.push(isLeaf(child) ? item : extract(item, child));
        } else if (path.startsWith("v:") && jsonEqual(JSON.parse(path.slice(2)), item)) {
          out.push(item);
        }
      }
    }
    return out;
  }
  return value;
}

function matchesKey(item: JsonObject, key: unknown): boolean {
  return isPlainObject(key) && Object.entries(key).every(([k, v]) => jsonEqual(item[k], v));
}

/** `object` without what an apply does not track (type, identity, server-set metadata). */
function applyView(object: JsonObject): JsonObject {
  const { apiVersion: _a, kind: _k, status: _s, ...rest } = object;
  if (!isPlainObject(rest.metadata)) return rest;
  const { name: _n, namespace: _ns, generateName: _g, ...metadata } = rest.metadata;
  const view: JsonObject = { ...rest };
  if (Object.keys(metadata).length > 0) view.metadata = metadata;
  else delete view.metadata;
  return view;
}

/** Whether applying `desired` as `manager` would leave `live` as it is. */
export function isApplied(live: KubeObject, desired: KubeObject, manager: string): boolean {
  const applied = extractApplied(live, manager, desired.apiVersion);
  if (!applied) return false;
  return jsonEqual(applyView(applied), applyView(JSON.parse(JSON.stringify(desired))));
}

/**
 * `object` without the managedFields entries isApplied() does not read: every entry but `manager`'s
 * applies to the whole object (other managers', subresource and Update entries). Those entries are often
 * as large as the fields they describe, and a cache that keeps them grows with every writer of an object.
 * Returns a copy when something is dropped; `object` itself is not changed.
 */
export function withOnlyAppliedFields(object: KubeObject, manager: string): KubeObject {
  const entries = object.metadata.managedFields;
  if (entries === undefined) return object;
  const kept = entries.filter((e) => e.manager === manager && e.operation === "Apply" && !e.subresource);
  if (kept.length === entries.length) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata: kept.length > 0 ? { ...metadata, managedFields: kept } : metadata };
}
