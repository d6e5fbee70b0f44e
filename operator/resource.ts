/**
 * Kubernetes objects as the operator sees them: a few typed metadata fields, the rest opaque. Objects are
 * parsed with zod where they enter (list, watch and write responses), so nothing untyped leaks further.
 */
import { z } from "zod";

export const ownerReference = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof ownerReference>;

export const objectMeta = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(ownerReference).optional(),
  managedFields: z.array(z.looseObject({ manager: z.string().optional() })).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

export const kubeObject = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: objectMeta,
});
/** Any Kubernetes object: typed metadata, and whatever else the kind carries (spec, status, data...). */
export type KubeObject = z.infer<typeof kubeObject>;

export const objectList = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() }),
  items: z.array(z.looseObject({ metadata: objectMeta })),
});

/** Which API resource a kind is served at. */
export interface ResourceType {
  /** group/version, or version alone for the core group ("v1"). */
  apiVersion: string;
  kind: string;
  /** Lower-case plural used in URLs. */
  plural: string;
  namespaced: boolean;
}

/** The resource type of a kind served at `apiVersion`, from how a CRD describes it. */
export function resourceType(
  apiVersion: string,
  def: { kind: string; plural: string; scope: "Namespaced" | "Cluster" },
): ResourceType {
  return { apiVersion, kind: def.kind, plural: def.plural, namespaced: def.scope === "Namespaced" };
}

/** The group of an apiVersion ("" for the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** A stable identifier of a resource type, for maps and metric labels. */
export function typeId(type: ResourceType): string {
  return `${type.plural}.${groupOf(type.apiVersion) || "core"}`;
}

/**
 * URL path of a collection, an object or a subresource. A namespaced type without a namespace gives the
 * all-namespaces collection.
 */
export function resourcePath(
  type: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = type.apiVersion.includes("/") ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  let path = base;
  if (type.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${type.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

/** The path of an object, from its own apiVersion, namespace and name. */
export function objectPath(type: ResourceType, object: KubeObject, subresource?: string): string {
  return resourcePath(
    type,
    type.namespaced ? object.metadata.namespace : undefined,
    object.metadata.name,
    subresource,
  );
}

/** Work-queue key of an object: "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(meta: { namespace?: string | undefined; name: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

export function parseKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Compares resourceVersions as the integers etcd makes them; undefined when either is not a number. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Log fields that name an object (kind, namespace, name). */
export function objectLogFields(object: {
  kind: string;
  metadata: { namespace?: string | undefined; name: string };
}) {
  return { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
