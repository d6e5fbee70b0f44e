/**
 * Status writes: the computed status is compared with the live one and written to the /status
 * subresource only when it differs. The write is a merge patch carrying the resourceVersion the status was
 * computed from, so a status computed from a stale read is rejected (409 Conflict) instead of overwriting
 * newer facts; the reconcile is then retried on fresh data.
 */
import { createMergePatch, isPlainObject, type JsonObject } from "./json.ts";
import type { KubeClient } from "./kube-client.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

/** The live object's status ({} when it has none). */
export function liveStatus(object: KubeObject): JsonObject {
  return isPlainObject(object.status) ? object.status : {};
}

/** The merge patch from the live status to `status`, or undefined when they are the same. */
export function statusPatch(object: KubeObject, status: JsonObject): JsonObject | undefined {
  const patch = createMergePatch(liveStatus(object), status);
  return patch === undefined ? undefined : (patch as JsonObject);
}

export function statusDiffers(object: KubeObject, status: JsonObject): boolean {
  return statusPatch(object, status) !== undefined;
}

/**
 * Writes `status` when it differs from `object`'s; returns the updated object, or undefined when nothing
 * was written. Throws ApiError 409 when `object` is no longer the latest version.
 */
export async function patchStatus(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  status: JsonObject,
  signal?: AbortSignal,
): Promise<KubeObject | undefined> {
  const patch = statusPatch(object, status);
  if (patch === undefined) return undefined;
  return client.requestObject({
    method: "PATCH",
    path: objectPath(type, object, "status"),
    contentType: "application/merge-patch+json",
    body: { metadata: { resourceVersion: object.metadata.resourceVersion }, status: patch },
    signal,
  });
}
