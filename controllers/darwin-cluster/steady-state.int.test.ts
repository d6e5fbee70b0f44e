// @testbed cluster
/**
 * The DarwinCluster controller, in process, running for 5 minutes on the cluster tier with a few
 * DarwinClusters: after the first lists its watches stay open (no restart for an error, a silent watch
 * or a 410; the apiserver's own watch timeout, 5 to 10 minutes, is a normal reconnect without a list) and
 * nothing is listed again. Both are the operator's metrics (darwin_informer_watch_restarts_total,
 * darwin_informer_lists_total).
 */
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  getObject,
  metricValue,
  startManager,
  type TestManager,
  testbedClient,
  testConfig,
  waitFor,
} from "../../operator/testing/testbed.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { RAY_CLUSTERS } from "../shared/resource-types.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-steady-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-Steady-${RUN}`;
const CLUSTERS = ["steady-a", "steady-b", "steady-c"];
const OBSERVE_MS = 5 * 60_000;

let client: KubeClient;
let namespace: string;
let operator: TestManager;

beforeAll(async () => {
  client = testbedClient();
  namespace = `runtime-steady-${RUN}`;
  await kubectlOk(["create", "namespace", namespace]);
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: "DarwinRuntime",
    metadata: { name: RUNTIME_NAME },
    spec: {
      displayName: RUNTIME_DISPLAY,
      rayVersion: "2.37.0",
      pythonVersion: "3.10",
      image: "rayproject/ray:2.37.0-py310",
    },
  });
  operator = await startManager([createDarwinClusterController()], testConfig(namespace));
});

afterAll(async () => {
  await operator?.stop();
  if (namespace) {
    await kubectl(["delete", "darwinclusters", "--all", "-n", namespace, "--wait=false"]);
    await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
  }
  await kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]);
  client?.close();
});

const metrics = async () => operator.metrics.registry.metrics();

/** darwin_informer_lists_total per resource. */
function listsByResource(text: string): Record<string, number> {
  const lists: Record<string, number> = {};
  for (const match of text.matchAll(/^darwin_informer_lists_total\{resource="([^"]+)"\} (\d+)$/gm)) {
    lists[match[1] ?? ""] = Number(match[2]);
  }
  return lists;
}

/** Watch restarts other than the server's normal end of a watch. */
const abnormalRestarts = (text: string) =>
  ["error", "silence", "gone"].reduce(
    (sum, reason) => sum + metricValue(text, "darwin_informer_watch_restarts_total", { reason }),
    0,
  );

describe("DarwinCluster operator at rest", () => {
  it("keeps its watches open and lists nothing again for 5 minutes", {
    timeout: OBSERVE_MS + 5 * 60_000,
  }, async () => {
    for (const name of CLUSTERS) {
      await kubectlOk(["apply", "-f", "-"], {
        apiVersion: DARWIN_CLUSTERS.apiVersion,
        kind: DARWIN_CLUSTERS.kind,
        metadata: { name, namespace },
        spec: {
          runtime: RUNTIME_DISPLAY,
          owner: "ana@example.com",
          head: { cores: 1, memory: "2Gi" },
          workerGroups: [{ name: "spot", cores: 2, memory: 4, minPods: 1, maxPods: 2, capacity: "spot" }],
        },
      });
    }
    for (const name of CLUSTERS) {
      await waitFor(
        `DarwinCluster ${name} Ready`,
        async () => {
          const status = (await getObject(client, DARWIN_CLUSTERS, namespace, name))?.status as
            | { conditions?: Parameters<typeof findCondition>[0] }
            | undefined;
          return findCondition(status?.conditions, "Ready")?.status === "True";
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    }
    // Each informer listed once, at start.
    const before = await metrics();
    const lists = listsByResource(before);
    expect(lists).toEqual({
      "darwinclusters.darwin.dreamhorizon.org": 1,
      "darwinruntimes.darwin.dreamhorizon.org": 1,
      "rayclusters.ray.io": 1,
      "deployments.apps": 1,
      "services.core": 1,
    });
    expect(abnormalRestarts(before)).toBe(0);
    const rayCache = operator.manager.informer(RAY_CLUSTERS, namespace);
    const versionBefore = BigInt(rayCache?.lastSyncResourceVersion ?? "0");

    // At rest, checked every 15 s so a failure shows when it happens.
    const started = Date.now();
    while (Date.now() - started < OBSERVE_MS) {
      await delay(15_000);
      const now = await metrics();
      expect(abnormalRestarts(now), "watch restarts (error, silence, gone)").toBe(0);
      expect(listsByResource(now), "lists").toEqual(lists);
    }

    // The watches still deliver: a change is reconciled without a list.
    await kubectlOk([
      "patch",
      "darwincluster",
      CLUSTERS[0] ?? "",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { tags: ["rested"] } }),
    ]);
    await waitFor(
      "RayCluster relabelled",
      async () =>
        (await getObject(client, RAY_CLUSTERS, namespace, CLUSTERS[0] ?? ""))?.metadata.labels?.[
          "tag.darwin.dreamhorizon.org/rested"
        ] === "true",
    );
    const after = await metrics();
    expect(abnormalRestarts(after)).toBe(0);
    expect(listsByResource(after)).toEqual(lists);
    expect(BigInt(rayCache?.lastSyncResourceVersion ?? "0")).toBeGreaterThan(versionBefore);
    const closed = metricValue(after, "darwin_informer_watch_restarts_total", { reason: "closed" });
    process.stdout.write(
      `${Object.keys(lists).length} informers over ${Math.round((Date.now() - started) / 1000)} s: 0 relists, 0 abnormal watch restarts, ${closed} server-side watch timeouts\n`,
    );
  });
});
