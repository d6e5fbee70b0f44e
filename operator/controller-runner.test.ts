import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../test-e2e/support/wait.ts";
import { parseConfig } from "./config.ts";
import type { KubeClient } from "./kube-client.ts";
import { silentLogger } from "./logger.ts";
import { Manager } from "./manager.ts";
import { OperatorMetrics } from "./metrics.ts";
import { type ResourceType, resourcePath } from "./resource.ts";
import { ScriptedApiserver } from "./testing/scripted-apiserver.ts";

const WIDGETS: ResourceType = {
  apiVersion: "example.com/v1",
  kind: "Widget",
  plural: "widgets",
  namespaced: true,
};

let server: ScriptedApiserver | undefined;
let client: KubeClient | undefined;
let manager: Manager | undefined;

afterEach(async () => {
  await manager?.stop();
  client?.close();
  await server?.stop();
});

describe("the controller's workers", () => {
  it("let the process answer between reconciles that do no I/O (a resync of many unchanged objects)", async () => {
    const count = 2_000;
    const items = Array.from({ length: count }, (_, i) => ({
      apiVersion: WIDGETS.apiVersion,
      kind: WIDGETS.kind,
      metadata: { name: `w-${i}`, namespace: "ns", uid: `uid-${i}`, resourceVersion: "3" },
    }));
    server = new ScriptedApiserver();
    server.listsOf.set(resourcePath(WIDGETS, "ns"), [{ resourceVersion: "3", items }]);
    client = await server.start();
    manager = new Manager({
      client,
      config: parseConfig({ namespaces: ["ns"], leaderElection: { enabled: false }, workers: 4 }),
      log: silentLogger(),
      metrics: new OperatorMetrics({ processMetrics: false }),
      identity: "test",
      finalizerPrefix: "example.com",
    });
    let reconciled = 0;
    // how many reconciles had run when a timer set at the first one fired: what an HTTP request (a
    // liveness probe, a metrics scrape) waits for
    let timerFiredAfter: number | undefined;
    manager.register({
      name: "widgets",
      for: WIDGETS,
      async reconcile() {
        if (reconciled === 0)
          setTimeout(() => {
            timerFiredAfter = reconciled;
          }, 0);
        reconciled++;
        // an unchanged object: the reconcile reads its caches, finds nothing to write, and returns
        const until = performance.now() + 0.2;
        while (performance.now() < until);
        return undefined;
      },
    });
    await manager.start();
    await waitFor("every object reconciled", () => reconciled >= count, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    expect(timerFiredAfter).toBeDefined();
    expect(timerFiredAfter).toBeLessThan(count / 10);
  });
});
