/** Controller owner references: how a child names its owner, and how a child's event finds its owner's key. */
import { groupOf, type KubeObject, type OwnerReference, objectKey, type ResourceType } from "./resource.ts";

/** The reference a child carries to the object that controls it. */
export function controllerReference(owner: KubeObject): OwnerReference {
  if (!owner.metadata.uid) throw new Error(`${owner.kind} ${owner.metadata.name} has no uid yet`);
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The work-queue key of the owner that controls `child`, when that owner is of `ownerType`; undefined
 * otherwise. Only the controller reference counts (an object has at most one); the version in its
 * apiVersion may differ from ownerType's, the group and kind must match. A namespaced owner lives in the
 * child's namespace (Kubernetes forbids cross-namespace owners).
 */
export function controllerOwnerKey(
  child: Pick<KubeObject, "metadata">,
  ownerType: Pick<ResourceType, "apiVersion" | "kind" | "namespaced">,
): string | undefined {
  const ref = child.metadata.ownerReferences?.find((r) => r.controller === true);
  if (!ref) return undefined;
  if (ref.kind !== ownerType.kind || groupOf(ref.apiVersion) !== groupOf(ownerType.apiVersion))
    return undefined;
  return objectKey({
    namespace: ownerType.namespaced ? child.metadata.namespace : undefined,
    name: ref.name,
  });
}
