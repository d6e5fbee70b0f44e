/**
 * Server-side apply of the objects the operator owns. The field manager `darwin-operator` owns exactly the
 * fields it sends, so fields other controllers own (an HPA's replicas) are never touched, and `force`
 * takes back fields someone changed by hand. When the live object already carries what would be sent, no
 * request is made at all: an unchanged resource costs no writes.
 */
import type { KubeClient } from "./kube-client.ts";
import { isApplied } from "./managed-fields.ts";
import { controllerReference } from "./owner-references.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

export const FIELD_MANAGER = "darwin-operator";

/**
 * The label every child the operator applies carries (`app.kubernetes.io/managed-by: darwin-operator`).
 * The caches of owned kinds list and watch only objects with it, so the operator does not hold every
 * Deployment and Service of the cluster in memory.
 */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${FIELD_MANAGER}`;

/** `desired` with the managed-by label (set to darwin-operator whatever it was). */
export function withManagedByLabel(desired: KubeObject): KubeObject {
  const labels = { ...desired.metadata.labels, [MANAGED_BY_LABEL]: FIELD_MANAGER };
  return { ...desired, metadata: { ...desired.metadata, labels } };
}

export interface ApplyOptions {
  /** The object that controls this one; becomes its controller owner reference. */
  owner?: KubeObject | undefined;
  /** The live object, when known (from an informer); lets an unchanged apply be skipped. */
  live?: KubeObject | undefined;
  /**
   * Send only if the object is still at this resourceVersion (409 Conflict otherwise): for fields whose
   * desired value was derived from the live object, which a stale copy must not overwrite.
   */
  resourceVersion?: string | undefined;
  fieldManager?: string;
  signal?: AbortSignal | undefined;
}

export interface ApplyResult {
  /** The object after the apply (the live one when nothing was sent). */
  object: KubeObject;
  /** Whether a write was sent. */
  written: boolean;
}

/** `desired` with the controller reference to `owner` (replacing any earlier reference to it). */
export function withControllerReference(desired: KubeObject, owner: KubeObject): KubeObject {
  const ref = controllerReference(owner);
  const others = (desired.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { ...desired, metadata: { ...desired.metadata, ownerReferences: [...others, ref] } };
}

export async function applyObject(
  client: KubeClient,
  type: ResourceType,
  desired: KubeObject,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const manager = options.fieldManager ?? FIELD_MANAGER;
  const owned = options.owner ? withControllerReference(desired, options.owner) : desired;
  if (options.live && isApplied(options.live, owned, manager))
    return { object: options.live, written: false };
  // The apiserver checks a resourceVersion in an apply body as a precondition.
  const object =
    options.resourceVersion === undefined
      ? owned
      : { ...owned, metadata: { ...owned.metadata, resourceVersion: options.resourceVersion } };
  const applied = await client.requestObject({
    method: "PATCH",
    path: objectPath(type, object),
    query: { fieldManager: manager, force: true },
    // JSON is YAML; the apiserver parses apply patches as YAML either way.
    contentType: "application/apply-patch+yaml",
    body: object,
    signal: options.signal,
  });
  return { object: applied, written: true };
}
