/**
 * The controllers the operator runs. Each Darwin kind's controller (controllers/<kind>/) exports a factory
 * of its ControllerDefinition, called here with the operator's configuration.
 */
import { createCatalogAssetController } from "../controllers/catalog-asset/reconciler.ts";
import { createDarwinClusterController } from "../controllers/darwin-cluster/reconciler.ts";
import { darwinClusterEvent, withLifecycleEvents } from "../dataplane/chronos/lifecycle.ts";
import { chronosSinkFromEnv } from "../dataplane/chronos/sink.ts";
import type { OperatorConfig } from "./config.ts";
import type { ControllerDefinition } from "./controller.ts";
import { createLogger } from "./logger.ts";

export function darwinControllers(config: OperatorConfig): ControllerDefinition[] {
  // Lifecycle events go to Chronos when DARWIN_CHRONOS_URL is set (dataplane/chronos/lifecycle.ts).
  const events = chronosSinkFromEnv(createLogger(config.logLevel));
  return [
    withLifecycleEvents(
      createDarwinClusterController({ prices: config.capacityClasses }),
      events,
      darwinClusterEvent,
    ),
    createCatalogAssetController({ databaseUrl: process.env.DARWIN_CATALOG_MYSQL_URL }),
  ];
}
