/**
 * The controllers the operator runs. Each Darwin kind's controller (controllers/<kind>/) exports a factory
 * of its ControllerDefinition, called here with the operator's configuration.
 */

import type { Logger } from "pino";
import { createArtifactBuildController } from "../controllers/artifact-build/reconciler.ts";
import { createCatalogAssetController } from "../controllers/catalog-asset/reconciler.ts";
import { withCatalogRegistration } from "../controllers/catalog-asset/registration.ts";
import {
  darwinClusterAssets,
  featureGroupAssets,
  serveAssets,
} from "../controllers/catalog-asset/render/platform-assets.ts";
import { createDarwinClusterController } from "../controllers/darwin-cluster/reconciler.ts";
import { createDarwinJobController } from "../controllers/darwin-job/reconciler.ts";
import { createFeatureGroupController } from "../controllers/feature-group/reconciler.ts";
import { createServeController } from "../controllers/serve/reconciler.ts";
import { createServeEnvironmentController } from "../controllers/serve-environment/reconciler.ts";
import { mariadbCatalogIndex } from "../dataplane/catalog/index.ts";
import {
  artifactBuildEvents,
  darwinClusterEvents,
  featureGroupEvents,
  serveEvents,
  withLifecycleEvents,
} from "../dataplane/chronos/lifecycle.ts";
import { chronosSinkFromEnv } from "../dataplane/chronos/sink.ts";
import type { ControllerDefinition } from "../operator/controller.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import type { DarwinConfig } from "./config.ts";

/**
 * `deps`: the operator process's client and logger. Without them (the controllers listed for their RBAC
 * or the chart) no lifecycle events are published.
 */
export function darwinControllers(
  config: DarwinConfig,
  deps?: { client: Pick<KubeClient, "authorization">; log: Logger },
): ControllerDefinition[] {
  // Lifecycle events go to Chronos when DARWIN_CHRONOS_URL is set (dataplane/chronos/lifecycle.ts), posted
  // with the credentials of the process's one client.
  const events = deps && chronosSinkFromEnv(deps.log, deps.client);
  // CatalogAssets are registered in the catalog's MariaDB when DARWIN_CATALOG_MYSQL_URL is set.
  const catalogIndex = process.env.DARWIN_CATALOG_MYSQL_URL;
  // Each platform object is wrapped twice, leaving its reconciler as it is: its lifecycle events go to
  // Chronos, and it registers itself in the catalog as CatalogAssets it owns
  // (controllers/catalog-asset/registration.ts).
  const controllers = [
    withCatalogRegistration(
      withLifecycleEvents(
        createDarwinClusterController({
          prices: config.capacityClasses,
          activity: { endpoints: config.clusterEndpoints },
          alerts: config.alerts,
          autoscaler: config.rayAutoscaler,
        }),
        events,
        darwinClusterEvents,
      ),
      darwinClusterAssets,
    ),
    createCatalogAssetController({
      index: catalogIndex ? mariadbCatalogIndex({ url: catalogIndex }) : undefined,
    }),
    createDarwinJobController({ endpoints: config.clusterEndpoints }),
    withCatalogRegistration(
      withLifecycleEvents(createServeController({ serving: config.serving }), events, serveEvents),
      serveAssets,
    ),
    createServeEnvironmentController(),
    withLifecycleEvents(
      createArtifactBuildController({ builds: config.artifactBuilds }),
      events,
      artifactBuildEvents,
    ),
    withCatalogRegistration(
      withLifecycleEvents(
        createFeatureGroupController({ stores: config.featureStore }),
        events,
        featureGroupEvents,
      ),
      featureGroupAssets,
    ),
  ];
  // An operator limited to some namespaces sees only their objects: the status of a cluster-scoped kind it
  // computed from them (a ServeEnvironment's Serves) would be wrong, and would fight a cluster-wide
  // operator's. It leaves those kinds alone.
  return config.namespaces.length === 0 ? controllers : controllers.filter((c) => c.for.namespaced);
}
