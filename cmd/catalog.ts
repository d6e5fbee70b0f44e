/**
 * `catalog`: the Darwin catalog API (search, assets, OpenLineage). Environment: DARWIN_MYSQL_URL,
 * DARWIN_CATALOG_HOST, DARWIN_CATALOG_PORT, and for the MLflow sync DARWIN_MLFLOW_URL,
 * DARWIN_CATALOG_MLFLOW_NAMESPACE, DARWIN_CATALOG_MLFLOW_SYNC_SECONDS (dataplane/chronos/config.ts);
 * Kubernetes credentials for TokenReview and SubjectAccessReview. Assets are registered by the operator's
 * CatalogAsset controller, and MLflow's registered models by this process's sync.
 */
import { Registry } from "prom-client";
import { MlflowClient } from "../controllers/serve/mlflow-client.ts";
import { CATALOG_MIGRATIONS } from "../dataplane/catalog/migrations.ts";
import { MlflowModelSync } from "../dataplane/catalog/mlflow-sync.ts";
import { buildCatalogService } from "../dataplane/catalog/service.ts";
import { loadEnv } from "../dataplane/chronos/config.ts";
import { createPool, migrate } from "../dataplane/shared/mysql.ts";
import { closeOnSignals, KubeAuth, listenService } from "../operator/http/index.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { createLogger } from "../operator/logger.ts";

const env = loadEnv();
const logger = createLogger(env.DARWIN_LOG_LEVEL, { component: "catalog" });
const pool = createPool(env.DARWIN_MYSQL_URL);
logger.info({ applied: await migrate(pool, "catalog", CATALOG_MIGRATIONS) }, "Migrated the catalog schema");
const app = await buildCatalogService({
  pool,
  auth: new KubeAuth({ client: KubeClient.load({ userAgent: "darwin-catalog" }) }),
  logger,
  registry: new Registry(),
});
const sync =
  env.DARWIN_MLFLOW_URL === undefined
    ? undefined
    : new MlflowModelSync({
        pool,
        client: new MlflowClient(env.DARWIN_MLFLOW_URL),
        log: logger.child({ sync: "mlflow" }),
        defaultNamespace: env.DARWIN_CATALOG_MLFLOW_NAMESPACE,
        intervalMs: env.DARWIN_CATALOG_MLFLOW_SYNC_SECONDS * 1000,
      });
const port = await listenService(app, env.DARWIN_CATALOG_PORT, env.DARWIN_CATALOG_HOST);
logger.info({ port, mlflow: env.DARWIN_MLFLOW_URL ?? null }, "Started the catalog");
sync?.start();
await closeOnSignals(app).closed;
await sync?.stop();
await pool.end();
