/**
 * The operator's plain-HTTP endpoints on the HTTP base (operator/http): /metrics (Prometheus), /healthz (the
 * process is alive) and /readyz (caches are synced; a standby replica is ready too, so it can take over
 * quickly). No OpenAPI document: these are for kubelets and Prometheus, not for people.
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { buildService, type Probe, type ReadinessCheck, type Service } from "./http/service.ts";
import type { Manager } from "./manager.ts";

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

/**
 * The operator's readiness: not shutting down, and every cache listed; a cache that has not names itself
 * and the error of its last list (an owned kind whose CRD is missing: 404).
 */
export function operatorReadiness(
  manager: Pick<Manager, "unsyncedInformers">,
  shuttingDown: () => boolean,
): ReadinessCheck[] {
  return [
    { name: "shutdown", check: () => ({ ok: !shuttingDown(), detail: "shutting down" }) },
    {
      name: "informers",
      check: () => {
        const unsynced = manager.unsyncedInformers();
        return { ok: unsynced.length === 0, detail: `caches not synced: ${unsynced.join(", ")}` };
      },
    },
  ];
}
