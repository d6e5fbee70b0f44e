/**
 * Finalizers hold an object in deletion until the operator has cleaned up what lives outside Kubernetes
 * (tables, topics, catalog rows). Both writes carry the resourceVersion they were computed from, so two
 * writers cannot drop each other's finalizers; a 409 retries the reconcile on fresh data.
 */
import type { KubeClient } from "./kube-client.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

export function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return object.metadata.finalizers?.includes(finalizer) ?? false;
}

function writeFinalizers(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  finalizers: string[],
  signal?: AbortSignal,
): Promise<KubeObject> {
  return client.requestObject({
    method: "PATCH",
    path: objectPath(type, object),
    contentType: "application/merge-patch+json",
    body: { metadata: { resourceVersion: object.metadata.resourceVersion, finalizers } },
    signal,
  });
}

/** Adds the finalizer unless present; returns the object as it is now. */
export async function addFinalizer(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  finalizer: string,
  signal?: AbortSignal,
): Promise<KubeObject> {
  if (hasFinalizer(object, finalizer)) return object;
  return writeFinalizers(client, type, object, [...(object.metadata.finalizers ?? []), finalizer], signal);
}

/** Removes the finalizer if present; the apiserver deletes the object once its last finalizer is gone. */
export async function removeFinalizer(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  finalizer: string,
  signal?: AbortSignal,
): Promise<KubeObject> {
  if (!hasFinalizer(object, finalizer)) return object;
  const rest = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  return writeFinalizers(client, type, object, rest, signal);
}
