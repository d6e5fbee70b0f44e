/**
 * The catalog index the CatalogAsset controller registers into: the catalog's MariaDB tables, with the
 * catalog's migrations run once before the first write (and again after a failure, e.g. MariaDB not up yet).
 * The MySQL client is loaded with that first write, so an operator that registers nothing does not pay for it.
 */
import type { CatalogIndex } from "../../controllers/catalog-asset/reconciler.ts";
import type { Pool } from "../shared/mysql.ts";
import { CATALOG_MIGRATIONS } from "./migrations.ts";

export function mariadbCatalogIndex(source: { url: string } | { pool: Pool }): CatalogIndex {
  let ready: Promise<{ pool: Pool; assets: typeof import("./assets.ts") }> | undefined;
  const database = () => {
    ready ??= (async () => {
      const [{ createPool, migrate }, assets] = await Promise.all([
        import("../shared/mysql.ts"),
        import("./assets.ts"),
      ]);
      const pool = "pool" in source ? source.pool : createPool(source.url, 4);
      await migrate(pool, "catalog", CATALOG_MIGRATIONS);
      return { pool, assets };
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  return {
    register: async (key, spec) => {
      const { pool, assets } = await database();
      return assets.registerAsset(pool, key, spec);
    },
    remove: async (key, uid) => {
      const { pool, assets } = await database();
      await assets.deleteAsset(pool, key, uid);
    },
  };
}
