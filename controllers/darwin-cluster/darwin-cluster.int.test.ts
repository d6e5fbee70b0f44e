// @testbed cluster
/**
 * The DarwinCluster controller against the cluster tier (apiserver, controller-manager, scheduler, KWOK
 * nodes, KubeRay): a user creates a runtime and a cluster, waits for Ready, stops and starts it, deletes it;
 * and names a runtime that does not exist.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { collectionLists } from "../../operator/testing/requests.ts";
import {
  eventsAbout,
  getObject,
  idle,
  reconcileCount,
  recordRequests,
  settled,
  type TestManager,
  waitFor,
} from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { DEPLOYMENTS, RAY_CLUSTERS } from "../shared/resource-types.ts";
import { runtimeObject } from "./fixtures.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";
import { jupyterName } from "./render/jupyter.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-ray2.37.0-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-IT-${RUN}`;
/** Pods and clusters come and go through the scheduler, KWOK and KubeRay: give them time. */
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };

let client: KubeClient;
let namespace: string;
let operator: TestManager;

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string };
}

function darwinCluster(name: string, runtime: string): KubeObject {
  return {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name, namespace },
    spec: {
      runtime,
      owner: "ana@example.com",
      tags: ["integration"],
      head: { cores: 1, memory: "2Gi" },
      workerGroups: [{ name: "spot", cores: 2, memory: 4, minPods: 1, maxPods: 2, capacity: "spot" }],
    },
  };
}

const get = (name: string) => getObject(client, DARWIN_CLUSTERS, namespace, name);

async function status(name: string) {
  const object = await get(name);
  return (object?.status ?? {}) as {
    phase?: string;
    workers?: { ready: number; desired: number };
    estimatedCostPerHour?: string;
    conditions?: Parameters<typeof findCondition>[0];
  };
}

async function rayPods(name: string): Promise<Pod[]> {
  const list = (await client.request({
    method: "GET",
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector: `ray.io/cluster=${name}` },
  })) as { items: Pod[] };
  return list.items;
}

/** `kubectl wait --for=condition=Ready` semantics: the Ready condition is True. */
const waitReady = (name: string) =>
  waitFor(
    `DarwinCluster ${name} Ready`,
    async () => findCondition((await status(name)).conditions, "Ready")?.status === "True",
    SLOW,
  );

const waitPhase = (name: string, phase: string) =>
  waitFor(`DarwinCluster ${name} phase ${phase}`, async () => (await status(name)).phase === phase, SLOW);

const patch = (name: string, body: unknown) =>
  client.requestObject({
    method: "PATCH",
    path: `/apis/${DARWIN_CLUSTERS.apiVersion}/namespaces/${namespace}/darwinclusters/${name}`,
    contentType: "application/merge-patch+json",
    body,
  });

const RAY_IMAGE = "rayproject/ray:2.37.0-py310";

/** The images of a RayCluster's head and worker containers. */
function rayImages(rayCluster: KubeObject | undefined): string[] {
  type Group = { template: { spec: { containers: Array<{ image: string }> } } };
  const spec = rayCluster?.spec as { headGroupSpec?: Group; workerGroupSpecs?: Group[] } | undefined;
  if (!spec?.headGroupSpec) return [];
  return [spec.headGroupSpec, ...(spec.workerGroupSpecs ?? [])].flatMap((g) =>
    g.template.spec.containers.map((c) => c.image),
  );
}

/** What the Ray autoscaler does: sets the spot group's replicas, writing with its own field manager. */
const scaleSpotGroup = (name: string, replicas: number) =>
  client.requestObject({
    method: "PATCH",
    path: `/apis/ray.io/v1/namespaces/${namespace}/rayclusters/${name}`,
    query: { fieldManager: "ray-autoscaler" },
    contentType: "application/json-patch+json",
    body: [
      { op: "test", path: "/spec/workerGroupSpecs/0/groupName", value: "spot" },
      { op: "replace", path: "/spec/workerGroupSpecs/0/replicas", value: replicas },
    ],
  });

/** The spot group's replicas in a RayCluster. */
function workerGroupReplicas(rayCluster: KubeObject | undefined): unknown {
  const spec = rayCluster?.spec as { workerGroupSpecs?: Array<{ replicas?: number }> } | undefined;
  return spec?.workerGroupSpecs?.[0]?.replicas;
}

const tb = useTestbed({ namespace: "dc", cleanup: [DARWIN_CLUSTERS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME_NAME, RUNTIME_DISPLAY));
  operator = await tb.startOperator([createDarwinClusterController()]);
});

describe("DarwinCluster", () => {
  it("runs a Ray cluster on spot workers, stops and starts it, and leaves nothing behind", async () => {
    const name = "housing";
    await kubectlOk(["apply", "-f", "-"], darwinCluster(name, RUNTIME_DISPLAY));
    await waitReady(name);
    const waited = await kubectl([
      "wait",
      "--for=condition=Ready",
      `darwincluster/${name}`,
      "-n",
      namespace,
      "--timeout=5s",
    ]);
    expect(waited.code).toBe(0);

    const owner = await get(name);
    const rayCluster = await getObject(client, RAY_CLUSTERS, namespace, name);
    expect(rayCluster?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "DarwinCluster", name, uid: owner?.metadata.uid, controller: true }),
    ]);
    const pods = await rayPods(name);
    const heads = pods.filter((p) => p.metadata.labels?.["ray.io/node-type"] === "head");
    const workers = pods.filter((p) => p.metadata.labels?.["ray.io/node-type"] === "worker");
    expect(heads).toHaveLength(1);
    expect(workers).toHaveLength(1);
    for (const pod of pods) expect(pod.status.phase).toBe("Running");
    expect(workers[0]?.spec.nodeName).toMatch(/^kwok-spot-/);
    expect(heads[0]?.spec.nodeName).toMatch(/^kwok-ondemand-/);

    const ready = await status(name);
    expect(ready.workers).toEqual({ ready: 1, desired: 1 });
    expect(Number(ready.estimatedCostPerHour)).toBeGreaterThan(0);
    const listing = await kubectlOk(["get", "darwincluster", name, "-n", namespace]);
    const [header, row] = listing.trim().split("\n");
    expect(header).toMatch(/PHASE/);
    expect(row?.split(/\s+/)).toContain("Ready");

    // Converged: reconciling again sends nothing (the RayCluster apply is recognised as a no-op).
    const requests = recordRequests(operator.client);
    const count = await reconcileCount(operator.metrics, "darwincluster");
    operator.manager.enqueue("darwincluster", `${namespace}/${name}`);
    await waitFor(
      "another reconcile",
      async () => (await reconcileCount(operator.metrics, "darwincluster")) > count && idle(operator.manager),
    );
    requests.stop();
    expect(requests.writes()).toEqual([]);

    // Stop: KubeRay deletes the pods and keeps the spec; Jupyter scales to zero; nothing costs anything.
    await patch(name, { spec: { suspend: true } });
    await waitPhase(name, "Suspended");
    await waitFor("Ray pods gone", async () => (await rayPods(name)).length === 0, SLOW);
    const suspended = await status(name);
    expect(suspended.estimatedCostPerHour).toBe("0.00");
    expect(suspended.workers).toEqual({ ready: 0, desired: 0 });
    expect((await getObject(client, RAY_CLUSTERS, namespace, name))?.spec).toMatchObject({ suspend: true });
    const jupyter = await getObject(client, DEPLOYMENTS, namespace, jupyterName(name));
    expect(jupyter?.spec).toMatchObject({ replicas: 0 });
    await waitFor(
      "Normal Events Ready and Suspended",
      async () => {
        const reasons = (await eventsAbout(client, namespace, name))
          .filter((e) => e.type === "Normal")
          .map((e) => e.reason);
        return reasons.includes("Ready") && reasons.includes("Suspended");
      },
      SLOW,
    );

    // Start again.
    await patch(name, { spec: { suspend: false } });
    await waitReady(name);
    expect((await status(name)).phase).toBe("Ready");
    await waitFor(
      "head and worker Running again",
      async () => (await rayPods(name)).filter((p) => p.status.phase === "Running").length === 2,
      SLOW,
    );

    // Delete: the garbage collector removes the RayCluster through its owner reference.
    await kubectlOk(["delete", "darwincluster", name, "-n", namespace, "--wait=false"]);
    await waitFor(
      "RayCluster garbage-collected",
      async () => (await getObject(client, RAY_CLUSTERS, namespace, name)) === undefined,
      SLOW,
    );
  });

  it("keeps the replicas the autoscaler set when it applies the RayCluster again", async () => {
    const name = "autoscaled";
    await kubectlOk(["apply", "-f", "-"], darwinCluster(name, RUNTIME_DISPLAY));
    await waitReady(name);
    await scaleSpotGroup(name, 2);
    await settled(operator, RAY_CLUSTERS, namespace, name);
    // A change that makes the operator apply the RayCluster again (a new tag label).
    await patch(name, { spec: { tags: ["integration", "autoscaled"] } });
    await waitFor(
      "RayCluster re-applied",
      async () =>
        (await getObject(client, RAY_CLUSTERS, namespace, name))?.metadata.labels?.[
          "tag.darwin.dreamhorizon.org/autoscaled"
        ] === "true",
      SLOW,
    );
    const reapplied = await getObject(client, RAY_CLUSTERS, namespace, name);
    expect(reapplied?.spec).toMatchObject({ workerGroupSpecs: [expect.objectContaining({ replicas: 2 })] });
    await waitFor(
      "2 workers ready",
      async () => {
        const s = await status(name);
        return s.workers?.ready === 2 && s.workers.desired === 2 && s.phase === "Ready";
      },
      SLOW,
    );
    await kubectlOk(["delete", "darwincluster", name, "-n", namespace, "--wait=false"]);
  });

  it("keeps the replicas the autoscaler set even when its cache has not seen them yet", async () => {
    const name = "stale-cache";
    await kubectlOk(["apply", "-f", "-"], darwinCluster(name, RUNTIME_DISPLAY));
    await waitReady(name);
    await settled(operator, RAY_CLUSTERS, namespace, name);
    // The RayCluster cache stops following the server, as a lagging watch would.
    const cache = operator.manager.informer(RAY_CLUSTERS, namespace);
    await cache?.stop();
    try {
      await scaleSpotGroup(name, 2);
      expect(workerGroupReplicas(cache?.get(namespace, name))).toBe(1);
      // A change that makes the operator apply the RayCluster again, from its stale copy.
      await patch(name, { spec: { tags: ["integration", "stale"] } });
      await waitFor(
        "RayCluster re-applied",
        async () =>
          (await getObject(client, RAY_CLUSTERS, namespace, name))?.metadata.labels?.[
            "tag.darwin.dreamhorizon.org/stale"
          ] === "true",
        SLOW,
      );
      expect(workerGroupReplicas(await getObject(client, RAY_CLUSTERS, namespace, name))).toBe(2);
    } finally {
      cache?.start();
    }
    await settled(operator, RAY_CLUSTERS, namespace, name);
    expect(workerGroupReplicas(await getObject(client, RAY_CLUSTERS, namespace, name))).toBe(2);
    await kubectlOk(["delete", "darwincluster", name, "-n", namespace, "--wait=false"]);
  });

  it("follows a runtime's new image within seconds, with no LIST of any collection", async () => {
    const name = "follows-runtime";
    const runtime = `it-follow-${RUN}`;
    tb.defer(() => kubectl(["delete", "darwinruntime", runtime, "--ignore-not-found", "--wait=false"]));
    await kubectlOk(["apply", "-f", "-"], runtimeObject(runtime, `Ray2.37.0-Follow-${RUN}`));
    await kubectlOk(["apply", "-f", "-"], darwinCluster(name, `Ray2.37.0-Follow-${RUN}`));
    await waitFor("RayCluster with the runtime's image", async () => {
      const images = rayImages(await getObject(client, RAY_CLUSTERS, namespace, name));
      return images.length === 2 && images.every((image) => image === RAY_IMAGE);
    });
    await settled(operator, RAY_CLUSTERS, namespace, name);

    const requests = recordRequests(operator.client);
    const newImage = "rayproject/ray:2.37.0-py310-patched";
    const changedAt = Date.now();
    await kubectlOk([
      "patch",
      "darwinruntime",
      runtime,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { image: newImage } }),
    ]);
    await waitFor(
      "RayCluster on the new image",
      async () =>
        rayImages(await getObject(client, RAY_CLUSTERS, namespace, name)).every((i) => i === newImage),
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const followedAfterMs = Date.now() - changedAt;
    await settled(operator, RAY_CLUSTERS, namespace, name);
    requests.stop();
    expect(
      requests.writes().some((r) => r.method === "PATCH" && r.path.endsWith(`/rayclusters/${name}`)),
    ).toBe(true);
    // Reconciles read the caches: no request lists a collection, of whatever kind.
    expect(collectionLists(requests.records)).toEqual([]);
    process.stdout.write(`RayCluster followed the runtime's image ${followedAfterMs} ms after the change\n`);
    await kubectlOk(["delete", "darwincluster", name, "-n", namespace, "--wait=false"]);
    await kubectl(["delete", "darwinruntime", runtime, "--ignore-not-found", "--wait=false"]);
  });

  it("reads a pip cluster's head pods from its cache while the head starts, with no LIST", async () => {
    const name = "pip-start";
    const requests = recordRequests(operator.client);
    const object = darwinCluster(name, RUNTIME_DISPLAY);
    (object.spec as { packages?: unknown }).packages = { pip: ["text-unidecode==1.3"] };
    await kubectlOk(["apply", "-f", "-"], object);
    await waitReady(name);
    await settled(operator, DARWIN_CLUSTERS, namespace, name);
    requests.stop();
    // Every reconcile of the start (head not ready: the install step is looked at) read the caches.
    expect(
      requests.writes().some((r) => r.method === "PATCH" && r.path.endsWith(`/rayclusters/${name}`)),
    ).toBe(true);
    expect(collectionLists(requests.records)).toEqual([]);
    await kubectlOk(["delete", "darwincluster", name, "-n", namespace, "--wait=false"]);
  });

  it("judges an InvalidSpec caused by a runtime again when the runtime changes", async () => {
    const name = "gpu-on-cpu";
    const runtime = `it-gpu-${RUN}`;
    const display = `Ray2.37.0-Gpu-${RUN}`;
    tb.defer(() => kubectl(["delete", "darwinruntime", runtime, "--ignore-not-found", "--wait=false"]));
    await kubectlOk(["apply", "-f", "-"], runtimeObject(runtime, display));
    const object = darwinCluster(name, display);
    (object.spec as { workerGroups: unknown[] }).workerGroups = [
      { name: "gpu", cores: 2, memory: 8, gpus: 1, minPods: 0, maxPods: 1, capacity: "on-demand" },
    ];
    await kubectlOk(["apply", "-f", "-"], object);
    const refused = await waitFor(
      "Ready=False InvalidSpec",
      async () => {
        const condition = findCondition((await status(name)).conditions, "Ready");
        return condition?.reason === "InvalidSpec" ? condition : undefined;
      },
      SLOW,
    );
    expect(refused.message).toContain("has no GPU support");
    const generation = (await get(name))?.metadata.generation;

    // The platform team enables GPUs on the runtime; nobody touches the cluster.
    const changedAt = Date.now();
    await kubectlOk(["patch", "darwinruntime", runtime, "--type=merge", "-p", '{"spec":{"gpu":true}}']);
    const judged = await waitFor(
      "Ready no longer InvalidSpec",
      async () => {
        const condition = findCondition((await status(name)).conditions, "Ready");
        return condition && condition.reason !== "InvalidSpec" ? condition : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    process.stdout.write(
      `The cluster was judged again ${Date.now() - changedAt} ms after the runtime allowed GPUs (${judged.reason})\n`,
    );
    expect((await status(name)).phase).not.toBe("Failed");
    expect((await get(name))?.metadata.generation).toBe(generation);
    expect(await getObject(client, RAY_CLUSTERS, namespace, name)).toBeDefined();
    await kubectlOk(["delete", "darwincluster", name, "-n", namespace, "--wait=false"]);
  });

  it("says RuntimeNotFound, with a Warning Event, for a runtime that does not exist", async () => {
    const name = "no-runtime";
    await kubectlOk(["apply", "-f", "-"], darwinCluster(name, `Missing-${RUN}`));
    const ready = await waitFor(
      "Ready=False RuntimeNotFound",
      async () => {
        const condition = findCondition((await status(name)).conditions, "Ready");
        return condition?.reason === "RuntimeNotFound" ? condition : undefined;
      },
      SLOW,
    );
    expect(ready.status).toBe("False");
    expect(ready.message).toContain(`Missing-${RUN}`);
    expect((await status(name)).phase).toBe("Pending");
    await waitFor(
      "Warning Event RuntimeNotFound",
      async () =>
        (await eventsAbout(client, namespace, name)).some(
          (e) => e.type === "Warning" && e.reason === "RuntimeNotFound",
        ),
      SLOW,
    );
    expect(await getObject(client, RAY_CLUSTERS, namespace, name)).toBeUndefined();
  });

  it("refuses a spec the webhook would refuse, naming the field (InvalidSpec, phase Failed)", async () => {
    const name = "too-small";
    const object = darwinCluster(name, RUNTIME_DISPLAY);
    (object.spec as { head: { memory: string } }).head.memory = "512Mi";
    await kubectlOk(["apply", "-f", "-"], object);
    const ready = await waitFor(
      "Ready=False InvalidSpec",
      async () => {
        const condition = findCondition((await status(name)).conditions, "Ready");
        return condition?.reason === "InvalidSpec" ? condition : undefined;
      },
      SLOW,
    );
    expect(ready.message).toMatch(/^spec\.head\.memory: "512Mi" is 512Mi, less than the 1Gi/);
    expect((await status(name)).phase).toBe("Failed");
    await waitFor(
      "Warning Event InvalidSpec",
      async () =>
        (await eventsAbout(client, namespace, name)).some(
          (e) => e.type === "Warning" && e.reason === "InvalidSpec",
        ),
      SLOW,
    );
    expect(await getObject(client, RAY_CLUSTERS, namespace, name)).toBeUndefined();
  });
});
