import { describe, expect, it } from "vitest";
import { buildOperatorServer } from "./http-server.ts";
import { silentLogger } from "./logger.ts";
import { OperatorMetrics } from "./metrics.ts";

describe("the operator's HTTP endpoints", () => {
  it("serves /healthz, /readyz naming the unsynced caches, and the controller metrics", async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    metrics.reconcileTotal.inc({ controller: "darwincluster", result: "success" });
    let unsynced = ["rayclusters.ray.io"];
    const app = await buildOperatorServer({
      registry: metrics.registry,
      logger: silentLogger(),
      healthz: () => ({ ok: true, detail: "" }),
      readiness: [
        {
          name: "informers",
          check: () => ({ ok: unsynced.length === 0, detail: `caches not synced: ${unsynced.join(", ")}` }),
        },
      ],
    });
    const healthz = await app.inject({ method: "GET", url: "/healthz" });
    expect([healthz.statusCode, healthz.body]).toEqual([200, "ok"]);
    const notReady = await app.inject({ method: "GET", url: "/readyz" });
    expect([notReady.statusCode, notReady.body]).toEqual([
      503,
      "informers: caches not synced: rayclusters.ray.io",
    ]);
    unsynced = [];
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.body]).toEqual([200, "ok"]);
    const scrape = await app.inject({ method: "GET", url: "/metrics" });
    expect(scrape.headers["content-type"]).toContain("text/plain");
    expect(scrape.body).toContain(
      'controller_runtime_reconcile_total{controller="darwincluster",result="success"} 1',
    );
    expect((await app.inject({ method: "GET", url: "/docs/json" })).statusCode).toBe(404);
  });
});
