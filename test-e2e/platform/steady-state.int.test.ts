// @testbed cluster
/**
 * The whole operator, every controller of `darwinControllers` in process, running for 5 minutes on the
 * cluster tier with a few DarwinClusters (and the CatalogAssets they register): after the first lists every
 * informer's watch stays open (no restart for an error, a silent watch or a 410; the apiserver's own watch
 * timeout, 5 to 10 minutes, is a normal reconnect without a list) and nothing is listed again. Both are the
 * operator's metrics (darwin_informer_watch_restarts_total, darwin_informer_lists_total).
 * On the shared testbed another checkout's test setup may apply its own version of a CRD meanwhile; the
 * apiserver then rebuilds that kind's watch cache, ends its watches and answers 429 "storage is
 * (re)initializing" or 410 for a while. Such a kind (its CRD's generation changed during the test) is
 * reported and left out; every other kind must show no abnormal restart and no relist.
 */
import { setTimeout as delay } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultDarwinConfig } from "../../cmd/config.ts";
import { darwinControllers } from "../../cmd/controllers.ts";
import { runtimeObject } from "../../controllers/darwin-cluster/fixtures.ts";
import { DARWIN_CLUSTERS } from "../../controllers/darwin-cluster/reconciler.ts";
import { RAY_CLUSTERS } from "../../controllers/shared/resource-types.ts";
import { MANAGED_BY_SELECTOR } from "../../operator/apply.ts";
import { findCondition } from "../../operator/conditions.ts";
import type { ControllerDefinition } from "../../operator/controller.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { type ResourceType, typeId } from "../../operator/resource.ts";
import { getObject, metricValue, type TestManager, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-steady-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-Steady-${RUN}`;
const CLUSTERS = ["steady-a", "steady-b", "steady-c"];
const OBSERVE_MS = 5 * 60_000;
/** Every controller the operator runs, as cmd/operator.ts makes them (no Chronos sink: no client given). */
const CONTROLLERS = darwinControllers(defaultDarwinConfig());

/**
 * The informers the manager runs for these controllers, per metric label `resource`: one per kind and
 * label selector (the reconciled and watched kinds whole or by the watch's selector, the owned kinds by the
 * managed-by label), in the one namespace watched (cluster-scoped kinds: one).
 */
function informersPerResource(controllers: ControllerDefinition[]): Record<string, number> {
  const caches = new Set<string>();
  for (const c of controllers) {
    caches.add(`${typeId(c.for)}?`);
    for (const owned of c.owns ?? []) caches.add(`${typeId(owned)}?${MANAGED_BY_SELECTOR}`);
    for (const watch of c.watches ?? []) caches.add(`${typeId(watch.type)}?${watch.labelSelector ?? ""}`);
  }
  const counts: Record<string, number> = {};
  for (const cache of caches) {
    const resource = cache.slice(0, cache.indexOf("?"));
    counts[resource] = (counts[resource] ?? 0) + 1;
  }
  return counts;
}
const LISTS_AT_START = informersPerResource(CONTROLLERS);
const RESOURCES = Object.keys(LISTS_AT_START);
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
  operator = await tb.startOperator(CONTROLLERS);
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

describe("The operator at rest", () => {
  it("keeps every informer's watch open and lists nothing again for 5 minutes", {
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
    // Each informer listed once, at start: every controller's kinds are counted.
    const before = await metrics();
    await findDisturbed();
    const lists = LISTS_AT_START;
    expect(RESOURCES).toEqual(
      expect.arrayContaining([
        "darwinclusters.darwin.dreamhorizon.org",
        "serves.darwin.dreamhorizon.org",
        "featuregroups.darwin.dreamhorizon.org",
        "catalogassets.darwin.dreamhorizon.org",
        "darwinjobs.darwin.dreamhorizon.org",
        "serveenvironments.darwin.dreamhorizon.org",
        "pods.core",
      ]),
    );
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
    // The operator's own kinds (RayCluster, Deployment, Service...) are never disturbed by a Darwin CRD.
    expect(Object.keys(without(lists, disturbed)).length).toBeGreaterThanOrEqual(5);
    expect(BigInt(rayCache?.lastSyncResourceVersion ?? "0")).toBeGreaterThan(versionBefore);
    const closed = metricValue(after, "darwin_informer_watch_restarts_total", { reason: "closed" });
    process.stdout.write(
      `${Object.values(lists).reduce((a, b) => a + b, 0)} informers of ${CONTROLLERS.length} controllers over ${Math.round((Date.now() - started) / 1000)} s: 0 relists, 0 abnormal watch restarts, ${closed} server-side watch timeouts; left out (CRD changed by someone else meanwhile): ${[...disturbed].join(", ") || "none"}\n`,
    );
  });
});
