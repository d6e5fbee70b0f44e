// @testbed cluster
/**
 * The DarwinCluster controller, in process, running for 5 minutes on the cluster tier with a few
 * DarwinClusters: after the first lists its watches stay open (no restart for an error, a silent watch
 * or a 410; the apiserver's own watch timeout, 5 to 10 minutes, is a normal reconnect without a list) and
 * nothing is listed again. Both are the operator's metrics (darwin_informer_watch_restarts_total,
 * darwin_informer_lists_total).
 * On the shared testbed another checkout's test setup may apply its own version of a CRD meanwhile; the
 * apiserver then rebuilds that kind's watch cache, ends its watches and answers 429 "storage is
 * (re)initializing" or 410 for a while. Such a kind (its CRD's generation changed during the test) is
 * reported and left out; every other kind must show no abnormal restart and no relist.
 */
import { setTimeout as delay } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { ResourceType } from "../../operator/resource.ts";
import { getObject, metricValue, type TestManager, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { RAY_CLUSTERS } from "../shared/resource-types.ts";
import { runtimeObject } from "./fixtures.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-steady-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-Steady-${RUN}`;
const CLUSTERS = ["steady-a", "steady-b", "steady-c"];
const OBSERVE_MS = 5 * 60_000;
/** The informers the controller runs (metric label `resource`). */
const RESOURCES = [
  "darwinclusters.darwin.dreamhorizon.org",
  "darwinruntimes.darwin.dreamhorizon.org",
  "rayclusters.ray.io",
  "deployments.apps",
  "services.core",
  "secrets.core",
];
const CRDS: ResourceType = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
};

let client: KubeClient;
let namespace: string;
let operator: TestManager;

const tb = useTestbed({ namespace: "runtime-steady", cleanup: [DARWIN_CLUSTERS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME_NAME, RUNTIME_DISPLAY));
  operator = await tb.startOperator([createDarwinClusterController()]);
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

/** Watch restarts other than the server's normal end of a watch, by resource and reason. */
function abnormalRestarts(text: string, except: ReadonlySet<string>): Record<string, number> {
  const restarts: Record<string, number> = {};
  const sample = /^darwin_informer_watch_restarts_total\{resource="([^"]+)",reason="([^"]+)"\} (\d+)$/gm;
  for (const [, resource = "", reason, count] of text.matchAll(sample)) {
    if (reason !== "closed" && Number(count) > 0 && !except.has(resource))
      restarts[`${resource} ${reason}`] = Number(count);
  }
  return restarts;
}

/** `lists` without the resources in `except`. */
function without(lists: Record<string, number>, except: ReadonlySet<string>): Record<string, number> {
  return Object.fromEntries(Object.entries(lists).filter(([resource]) => !except.has(resource)));
}

/** The generation of the CRD serving a resource (`darwinclusters.darwin.dreamhorizon.org`), if any. */
async function crdGeneration(resource: string): Promise<number | undefined> {
  const crd = await getObject(client, CRDS, "", resource).catch(() => undefined);
  return crd?.metadata.generation;
}

describe("DarwinCluster operator at rest", () => {
  it("keeps its watches open and lists nothing again for 5 minutes", {
    timeout: OBSERVE_MS + 5 * 60_000,
  }, async () => {
    const generations = new Map<string, number | undefined>();
    for (const resource of RESOURCES) generations.set(resource, await crdGeneration(resource));
    const disturbed = new Set<string>();
    const findDisturbed = async () => {
      for (const [resource, generation] of generations) {
        if ((await crdGeneration(resource)) !== generation) disturbed.add(resource);
      }
    };
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
    await findDisturbed();
    const lists = Object.fromEntries(RESOURCES.map((resource) => [resource, 1]));
    expect(without(listsByResource(before), disturbed)).toEqual(without(lists, disturbed));
    expect(abnormalRestarts(before, disturbed)).toEqual({});
    const rayCache = operator.manager.informer(RAY_CLUSTERS, namespace);
    const versionBefore = BigInt(rayCache?.lastSyncResourceVersion ?? "0");

    // At rest, checked every 15 s so a failure shows when it happens.
    const started = Date.now();
    while (Date.now() - started < OBSERVE_MS) {
      await delay(15_000);
      const now = await metrics();
      await findDisturbed();
      expect(abnormalRestarts(now, disturbed), "watch restarts (error, silence, gone)").toEqual({});
      expect(without(listsByResource(now), disturbed), "lists").toEqual(without(lists, disturbed));
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
    await findDisturbed();
    expect(abnormalRestarts(after, disturbed)).toEqual({});
    expect(without(listsByResource(after), disturbed)).toEqual(without(lists, disturbed));
    // The operator's own kinds (RayCluster, Deployment, Service) are never disturbed by a Darwin CRD.
    expect(Object.keys(without(lists, disturbed)).length).toBeGreaterThanOrEqual(3);
    expect(BigInt(rayCache?.lastSyncResourceVersion ?? "0")).toBeGreaterThan(versionBefore);
    const closed = metricValue(after, "darwin_informer_watch_restarts_total", { reason: "closed" });
    process.stdout.write(
      `${Object.keys(lists).length} informers over ${Math.round((Date.now() - started) / 1000)} s: 0 relists, 0 abnormal watch restarts, ${closed} server-side watch timeouts; left out (CRD changed by someone else meanwhile): ${[...disturbed].join(", ") || "none"}\n`,
    );
  });
});
