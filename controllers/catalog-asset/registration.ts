/**
 * Platform objects registering themselves in the catalog. `withCatalogRegistration` wraps a kind's
 * controller: after each reconcile it applies the CatalogAssets `render` gives for the object as stored, as
 * children the object controls, and deletes the ones it no longer gives. The CatalogAsset controller then
 * indexes them like any user's asset; when the object is deleted, Kubernetes' garbage collector deletes its
 * assets and their finalizer removes them from the index. The assets are applied with that finalizer
 * already in place, so the CatalogAsset controller has no separate write to add it.
 */
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { CATALOG_ASSETS, CATALOG_FINALIZER } from "./reconciler.ts";
import { REGISTERED_FROM } from "./render/platform-assets.ts";

export function withCatalogRegistration(
  controller: ControllerDefinition,
  render: (object: KubeObject) => KubeObject[],
): ControllerDefinition {
  return {
    ...controller,
    owns: [...(controller.owns ?? []), CATALOG_ASSETS],
    async reconcile(ctx) {
      const result = await controller.reconcile(ctx);
      await register(ctx, render(ctx.object));
      return result;
    },
  };
}

async function register(ctx: ReconcileContext, assets: KubeObject[]): Promise<void> {
  const { namespace, uid } = ctx.object.metadata;
  for (const asset of assets) await ctx.apply(CATALOG_ASSETS, withCatalogFinalizer(asset));
  const wanted = new Set(assets.map((a) => a.metadata.name));
  const stale = ctx
    .list(CATALOG_ASSETS, namespace)
    .filter(
      (a) =>
        a.metadata.labels?.[REGISTERED_FROM] === ctx.object.kind &&
        a.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller) &&
        !wanted.has(a.metadata.name),
    );
  for (const asset of stale)
    await ctx.delete(CATALOG_ASSETS, namespace, asset.metadata.name, asset.metadata.uid);
}

/** The asset with the CatalogAsset controller's finalizer (kept with any the render gives). */
function withCatalogFinalizer(asset: KubeObject): KubeObject {
  const finalizers = asset.metadata.finalizers ?? [];
  if (finalizers.includes(CATALOG_FINALIZER)) return asset;
  return { ...asset, metadata: { ...asset.metadata, finalizers: [...finalizers, CATALOG_FINALIZER] } };
}
