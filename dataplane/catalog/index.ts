/**
 * The catalog index the CatalogAsset controller registers into: the catalog's MariaDB tables, with the
 * catalog's migrations run once before the first write (and again after a failure, e.g. MariaDB not up yet).
 */
import type { CatalogIndex } from "../../controllers/catalog-asset/reconciler.ts";
import { createPool, migrate, type Pool } from "../shared/mysql.ts";
import { deleteAsset, registerAsset } from "./assets.ts";
import { CATALOG_MIGRATIONS } from "./migrations.ts";

export function mariadbCatalogIndex(source: { url: string } | { pool: Pool }): CatalogIndex {
  let ready: Promise<Pool> | undefined;
  const database = (): Promise<Pool> => {
    ready ??= (async () => {
      const pool = "pool" in source ? source.pool : createPool(source.url, 4);
      await migrate(pool, "catalog", CATALOG_MIGRATIONS);
      return pool;
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  return {
    register: async (key, spec) => registerAsset(await database(), key, spec),
    remove: async (key, uid) => {
      await deleteAsset(await database(), key, uid);
    },
  };
}
