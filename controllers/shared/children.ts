/** Operations on the children a controller owns. */
import type { ReconcileContext } from "../../operator/controller.ts";
import type { ResourceType } from "../../operator/resource.ts";

/** Deletes a child this object controls, if there is one; a same-named object it does not control stays. */
export async function deleteOwned(ctx: ReconcileContext, type: ResourceType, name: string): Promise<void> {
  const child = ctx.cached(type, ctx.object.metadata.namespace, name);
  const controlled = child?.metadata.ownerReferences?.some(
    (r) => r.controller === true && r.uid === ctx.object.metadata.uid,
  );
  if (child && controlled) await ctx.delete(type, child.metadata.namespace, name, child.metadata.uid);
}
