/**
 * The CatalogAsset controller: registers the asset and its schema version in the catalog index (the
 * catalog service searches it), and removes it through a finalizer when the resource is deleted. The index
 * is passed in (`CatalogIndex`; cmd/ wires the catalog's MariaDB store, dataplane/catalog/index.ts), so the
 * controller knows nothing of where it lives; registering does not depend on the catalog API being up.
 */
import { z } from "zod";
import { CatalogAsset, type Condition } from "../../crds/src/index.ts";
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import { TerminalError } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import { darwinKey } from "../shared/labels.ts";
import { darwinResource } from "../shared/resource-types.ts";
import { computeCatalogAssetStatus } from "./status.ts";

export const CATALOG_ASSETS = darwinResource(CatalogAsset);

export type CatalogAssetSpec = z.infer<typeof CatalogAsset.spec>;

/**
 * The finalizer that removes an asset from the index. Named here, not derived by the runtime, because the
 * assets platform objects register carry it from their first apply (registration.ts): that saves the
 * separate write that would add it.
 */
export const CATALOG_FINALIZER = darwinKey("catalogasset");

/** Where assets are registered. */
export interface CatalogIndex {
  /** Inserts or updates the asset; a changed schema becomes the next version. */
  register(
    key: { namespace: string; name: string; uid: string },
    spec: CatalogAssetSpec,
  ): Promise<{ schemaVersion: number; changed: boolean }>;
  /** Removes the asset registered under this uid (a newer asset of the same name stays). */
  remove(key: { namespace: string; name: string }, uid: string | undefined): Promise<void>;
}

export interface CatalogAssetControllerOptions {
  /**
   * The catalog index. Without one every asset is reported Ready=False (CatalogNotConfigured) and nothing
   * is written.
   * @default undefined
   */
  index: CatalogIndex | undefined;
}

export function createCatalogAssetController(options: CatalogAssetControllerOptions): ControllerDefinition {
  const { index } = options;
  return {
    name: "catalogasset",
    for: CATALOG_ASSETS,
    finalizerName: CATALOG_FINALIZER,
    async reconcile(ctx) {
      if (!index) {
        await writeStatus(ctx, {
          reason: "CatalogNotConfigured",
          message: "the operator has no catalog database; set DARWIN_CATALOG_MYSQL_URL on the operator",
        });
        return undefined;
      }
      const spec = CatalogAsset.spec.safeParse(ctx.object.spec);
      if (!spec.success) throw new TerminalError("InvalidSpec", z.prettifyError(spec.error));
      const { namespace = "", name, uid = "" } = ctx.object.metadata;
      const registration = await index.register({ namespace, name, uid }, spec.data);
      await writeStatus(ctx, { schemaVersion: registration.schemaVersion });
      if (registration.changed)
        ctx.event({
          type: "Normal",
          reason: "Registered",
          action: "Register",
          note: `Registered in the catalog with schema version ${registration.schemaVersion}.`,
        });
      return undefined;
    },
    async finalize(ctx) {
      const { namespace = "", name, uid } = ctx.object.metadata;
      await index?.remove({ namespace, name }, uid);
    },
  };
}

async function writeStatus(
  ctx: ReconcileContext,
  result: { schemaVersion: number } | { reason: string; message: string },
): Promise<void> {
  const previous = (ctx.object.status as { conditions?: Condition[] } | undefined)?.conditions;
  const status = computeCatalogAssetStatus(
    { generation: ctx.object.metadata.generation ?? 0, conditions: previous },
    result,
    ctx.now(),
  );
  await ctx.updateStatus(status as JsonObject);
}
