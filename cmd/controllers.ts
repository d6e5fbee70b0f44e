/**
 * The controllers the operator runs. Each Darwin kind's controller (controllers/<kind>/) exports a factory
 * of its ControllerDefinition, called here with the operator's configuration.
 */
import { createDarwinClusterController } from "../controllers/darwin-cluster/reconciler.ts";
import { createDarwinJobController } from "../controllers/darwin-job/reconciler.ts";
import type { ControllerDefinition } from "../operator/controller.ts";
import type { DarwinConfig } from "./config.ts";

export function darwinControllers(config: DarwinConfig): ControllerDefinition[] {
  return [
    createDarwinClusterController({ prices: config.capacityClasses }),
    createDarwinJobController({ endpoints: config.clusterEndpoints }),
  ];
}
