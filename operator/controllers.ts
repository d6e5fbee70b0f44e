/**
 * The controllers the operator runs. Each Darwin kind's controller (controllers/<kind>/) exports a factory
 * of its ControllerDefinition, called here with the operator's configuration.
 */
import { createDarwinClusterController } from "../controllers/darwin-cluster/reconciler.ts";
import { createFeatureGroupController } from "../controllers/feature-group/reconciler.ts";
import type { OperatorConfig } from "./config.ts";
import type { ControllerDefinition } from "./controller.ts";

export function darwinControllers(config: OperatorConfig): ControllerDefinition[] {
  return [
    createDarwinClusterController({ prices: config.capacityClasses }),
    createFeatureGroupController({ stores: config.featureStore }),
  ];
}
