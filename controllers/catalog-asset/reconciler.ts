/**
 * The CatalogAsset controller: registers the asset and its schema version in the catalog's MariaDB index
 * (the catalog service searches it), and removes it through a finalizer when the resource is deleted. It
 * writes to the database directly rather than through the catalog API: the index is the catalog's storage,
 * and the operator must not depend on the API being up to keep it current.
 */
import { z } from "zod";
import { CatalogAsset, type Condition } from "../../crds/src/index.ts";
import { deleteAsset, registerAsset } from "../../dataplane/catalog/assets.ts";
import { CATALOG_MIGRATIONS } from "../../dataplane/catalog/migrations.ts";
import { createPool, migrate, type Pool } from "../../dataplane/shared/mysql.ts";
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import { TerminalError } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import { darwinResource } from "../../operator/resource.ts";
import { computeCatalogAssetStatus } from "./status.ts";

export const CATALOG_ASSETS = darwinResource(CatalogAsset);

export interface CatalogAssetControllerOptions {
  /**
   * mysql://user:password@host:port/database of the catalog index. Without it every asset is reported
   * Ready=False (CatalogNotConfigured) and nothing is written.
   * @default undefined
   */
  databaseUrl?: string | undefined;
  /** A pool to use instead of opening one from databaseUrl (tests). */
  pool?: Pool;
}

export function createCatalogAssetController(options: CatalogAssetControllerOptions): ControllerDefinition {
  let ready: Promise<Pool> | undefined;
  const database = (): Promise<Pool> | undefined => {
    if (!options.pool && !options.databaseUrl) return undefined;
    ready ??= (async () => {
      const pool = options.pool ?? createPool(options.databaseUrl as string, 4);
      await migrate(pool, "catalog", CATALOG_MIGRATIONS);
      return pool;
    })().catch((error: unknown) => {
      ready = undefined; // the next reconcile tries again
      throw error;
    });
    return ready;
  };
  return {
    name: "catalogasset",
    for: CATALOG_ASSETS,
    async reconcile(ctx) {
      const pending = database();
      if (!pending) {
        await writeStatus(ctx, {
          reason: "CatalogNotConfigured",
          message: "the operator has no catalog database; set DARWIN_CATALOG_MYSQL_URL on the operator",
        });
        return undefined;
      }
      const spec = CatalogAsset.spec.safeParse(ctx.object.spec);
      if (!spec.success) throw new TerminalError("InvalidSpec", z.prettifyError(spec.error));
      const { namespace = "", name, uid = "" } = ctx.object.metadata;
      const registration = await registerAsset(await pending, { namespace, name, uid }, spec.data);
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
      const pending = database();
      if (!pending) return;
      const { namespace = "", name, uid } = ctx.object.metadata;
      await deleteAsset(await pending, { namespace, name }, uid);
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
