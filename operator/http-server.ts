/**
 * The operator's plain-HTTP endpoints on the HTTP base (operator/http): /metrics (Prometheus), /healthz (the
 * process is alive) and /readyz (caches are synced; a standby replica is ready too, so it can take over
 * quickly). No OpenAPI document: these are for kubelets and Prometheus, not for people.
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { buildService, type Probe, type ReadinessCheck, type Service } from "./http/service.ts";

export interface OperatorEndpoints {
  registry: Registry;
  logger: Logger;
  healthz: () => Probe;
  /** Named checks; /readyz answers 503 with one line `name: detail` per failing one. */
  readiness: readonly ReadinessCheck[];
}

/** Builds the server without listening (tests call inject, or listenService with port 0). */
export function buildOperatorServer(endpoints: OperatorEndpoints): Promise<Service> {
  return buildService({
    name: "operator",
    logger: endpoints.logger,
    registry: endpoints.registry,
    liveness: endpoints.healthz,
    readiness: endpoints.readiness,
    docs: false,
  });
}
