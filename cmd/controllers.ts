/**
 * The controllers the operator runs. Each Darwin kind's controller (controllers/<kind>/) exports a factory
 * of its ControllerDefinition, called here with the operator's configuration.
 */
import { createCatalogAssetController } from "../controllers/catalog-asset/reconciler.ts";
import { createDarwinClusterController } from "../controllers/darwin-cluster/reconciler.ts";
import { createDarwinJobController } from "../controllers/darwin-job/reconciler.ts";
import { createFeatureGroupController } from "../controllers/feature-group/reconciler.ts";
import { createServeController } from "../controllers/serve/reconciler.ts";
import { createServeEnvironmentController } from "../controllers/serve-environment/reconciler.ts";
import { mariadbCatalogIndex } from "../dataplane/catalog/index.ts";
import { darwinClusterEvent, withLifecycleEvents } from "../dataplane/chronos/lifecycle.ts";
import { chronosSinkFromEnv } from "../dataplane/chronos/sink.ts";
import type { ControllerDefinition } from "../operator/controller.ts";
import { createLogger } from "../operator/logger.ts";
import type { DarwinConfig } from "./config.ts";

export function darwinControllers(config: DarwinConfig): ControllerDefinition[] {
  // Lifecycle events go to Chronos when DARWIN_CHRONOS_URL is set (dataplane/chronos/lifecycle.ts).
  const events = chronosSinkFromEnv(createLogger(config.logLevel));
  // CatalogAssets are registered in the catalog's MariaDB when DARWIN_CATALOG_MYSQL_URL is set.
  const catalogIndex = process.env.DARWIN_CATALOG_MYSQL_URL;
  return [
    withLifecycleEvents(
      createDarwinClusterController({
        prices: config.capacityClasses,
        activity: { endpoints: config.clusterEndpoints },
        alerts: config.alerts,
      }),
      events,
      darwinClusterEvent,
    ),
    createCatalogAssetController({
      index: catalogIndex ? mariadbCatalogIndex({ url: catalogIndex }) : undefined,
    }),
    createDarwinJobController({ endpoints: config.clusterEndpoints }),
    createServeController({ serving: config.serving }),
    createServeEnvironmentController(),
    createFeatureGroupController({ stores: config.featureStore }),
  ];
}
