import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { cluster } from "./fixtures.ts";
import { DEFAULT_PRICES } from "./prices.ts";
import { PACKAGES_CONTAINER } from "./render/packages.ts";
import { computeDarwinClusterStatus, formatCost, headPodCacheView, packagesFailure } from "./status.ts";

const PRICES = DEFAULT_PRICES;
const NOW = new Date("2026-11-26T10:00:00Z");
const LATER = new Date("2026-11-26T11:00:00Z");

const cond = (type: string, status: "True" | "False", reason = type) => ({
  type,
  status,
  reason,
  message: "",
});

function rayCluster(status: Record<string, unknown>, replicas = 1): KubeObject {
  return {
    apiVersion: "ray.io/v1",
    kind: "RayCluster",
    metadata: { name: "housing-project", namespace: "team-a", generation: 1 },
    spec: { workerGroupSpecs: [{ groupName: "default", replicas, minReplicas: 1, maxReplicas: 2 }] },
    status: { head: { serviceName: "housing-project-head-svc" }, ...status },
  };
}
const READY_RC = rayCluster({
  conditions: [cond("HeadPodReady", "True"), cond("RayClusterProvisioned", "True")],
  readyWorkerReplicas: 1,
  desiredWorkerReplicas: 1,
  state: "ready",
});
const JUPYTER_UP: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "housing-project-jupyter" },
  status: { availableReplicas: 1 },
};

describe("computeDarwinClusterStatus phases", () => {
  it.each([
    ["no RayCluster yet", {}, undefined, "Pending", "RayClusterPending"],
    ["no RayCluster, suspended", { suspend: true }, undefined, "Suspended", "Suspended"],
    [
      "head pod not ready",
      {},
      rayCluster({ conditions: [cond("HeadPodReady", "False"), cond("RayClusterProvisioned", "False")] }),
      "Creating",
      "HeadPodNotReady",
    ],
    [
      "workers not ready",
      {},
      rayCluster({
        conditions: [cond("HeadPodReady", "True"), cond("RayClusterProvisioned", "False")],
        readyWorkerReplicas: 0,
        desiredWorkerReplicas: 1,
      }),
      "Creating",
      "WorkersNotReady",
    ],
    ["head and workers ready", {}, READY_RC, "Ready", "RayClusterReady"],
    ["suspend asked, pods still there", { suspend: true }, READY_RC, "Suspending", "Suspending"],
    [
      "KubeRay suspending",
      { suspend: true },
      rayCluster({ conditions: [cond("RayClusterSuspending", "True")] }),
      "Suspending",
      "Suspending",
    ],
    [
      "KubeRay suspended",
      { suspend: true },
      rayCluster({ conditions: [cond("RayClusterSuspended", "True"), cond("HeadPodReady", "False")] }),
      "Suspended",
      "Suspended",
    ],
    [
      "resumed, KubeRay still suspended",
      {},
      rayCluster({ conditions: [cond("RayClusterSuspended", "True")] }),
      "Creating",
      "Resuming",
    ],
    [
      "replica failure",
      {},
      rayCluster({
        conditions: [cond("HeadPodReady", "False"), cond("ReplicaFailure", "True", "FailedCreateHeadPod")],
      }),
      "Failed",
      "ReplicaFailure",
    ],
    ["no conditions, state ready", {}, rayCluster({ state: "ready" }), "Ready", "RayClusterReady"],
    [
      "no conditions, state suspended",
      { suspend: true },
      rayCluster({ state: "suspended" }),
      "Suspended",
      "Suspended",
    ],
    ["no conditions, no state", {}, rayCluster({}), "Creating", "RayClusterNotReady"],
    [
      "no conditions, state failed",
      {},
      rayCluster({ state: "failed", reason: "bad pod" }),
      "Failed",
      "ReplicaFailure",
    ],
  ])("%s -> %s (%s)", (_what, spec, rc, phase, reason) => {
    const status = computeDarwinClusterStatus(cluster(spec), rc, JUPYTER_UP, PRICES, NOW);
    expect(status.phase).toBe(phase);
    const ready = status.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({
      status: phase === "Ready" ? "True" : "False",
      reason,
      observedGeneration: 1,
    });
    expect(ready?.message).not.toBe("");
  });

  it("prefers the conditions over the deprecated state", () => {
    const rc = rayCluster({ conditions: [cond("HeadPodReady", "False")], state: "ready" });
    expect(computeDarwinClusterStatus(cluster(), rc, JUPYTER_UP, PRICES, NOW).phase).toBe("Creating");
  });

  it("waits for Jupyter when it is enabled, not when it is disabled", () => {
    const waiting = computeDarwinClusterStatus(cluster(), READY_RC, undefined, PRICES, NOW);
    expect(waiting.phase).toBe("Creating");
    expect(waiting.conditions?.[0]?.reason).toBe("JupyterNotReady");
    const off = computeDarwinClusterStatus(
      cluster({ jupyter: { enabled: false } }),
      READY_RC,
      undefined,
      PRICES,
      NOW,
    );
    expect(off.phase).toBe("Ready");
    expect(off.jupyterURL).toBeUndefined();
  });

  it.each([
    ["RuntimeNotFound", "none", undefined, {}, "Pending"],
    // the running RayCluster is left alone, but a cluster that cannot be reconciled is not Ready
    ["RuntimeNotFound", "ready", READY_RC, {}, "Pending"],
    ["RuntimeNotFound", "suspended", undefined, { suspend: true }, "Suspended"],
    ["InvalidSpec", "ready", READY_RC, {}, "Failed"],
  ])(
    "a %s blocker (RayCluster %s) sets Ready=False and a phase that agrees",
    (reason, _, rc, spec, phase) => {
      const status = computeDarwinClusterStatus(cluster(spec), rc, JUPYTER_UP, PRICES, NOW, {
        reason,
        message: "m",
      });
      expect(status.phase).toBe(phase);
      expect(status.conditions).toEqual([
        {
          type: "Ready",
          status: "False",
          reason,
          message: "m",
          lastTransitionTime: "2026-11-26T10:00:00Z",
          observedGeneration: 1,
        },
      ]);
    },
  );

  it("reports names, URLs and worker counts", () => {
    const status = computeDarwinClusterStatus(cluster(), READY_RC, JUPYTER_UP, PRICES, NOW);
    expect(status).toMatchObject({
      rayClusterName: "housing-project",
      dashboardURL: "http://housing-project-head-svc.team-a.svc:8265",
      jupyterURL: "http://housing-project-jupyter.team-a.svc:8888",
      workers: { ready: 1, desired: 1 },
      observedGeneration: 1,
    });
  });
});

describe("estimatedCostPerHour", () => {
  // head: 4 cores, 8 GiB on-demand = 4*0.04 + 8*0.005 = 0.20; worker: 2 cores, 4 GiB spot = 0.024 + 0.0064 = 0.0304
  it.each([
    [0, 1, "0.20"],
    [1, 1, "0.2304"],
    [2, 2, "0.2608"],
  ])("%d ready workers of %d desired cost %s", (ready, replicas, cost) => {
    const rc = rayCluster(
      {
        conditions: [cond("HeadPodReady", "True"), cond("RayClusterProvisioned", "True")],
        readyWorkerReplicas: ready,
        desiredWorkerReplicas: replicas,
      },
      replicas,
    );
    expect(computeDarwinClusterStatus(cluster(), rc, JUPYTER_UP, PRICES, NOW).estimatedCostPerHour).toBe(
      cost,
    );
  });

  it("attributes ready workers to groups in order, each at its own capacity price", () => {
    const spec = {
      workerGroups: [
        { name: "a", cores: 1, memory: 1, minPods: 1, maxPods: 1, capacity: "on-demand" },
        { name: "b", cores: 10, memory: 10, minPods: 1, maxPods: 1, capacity: "spot" },
      ],
    };
    const rc: KubeObject = {
      ...READY_RC,
      spec: {
        workerGroupSpecs: [
          { groupName: "a", replicas: 1, minReplicas: 1, maxReplicas: 1 },
          { groupName: "b", replicas: 1, minReplicas: 1, maxReplicas: 1 },
        ],
      },
      status: {
        conditions: [cond("HeadPodReady", "True"), cond("RayClusterProvisioned", "True")],
        readyWorkerReplicas: 2,
      },
    };
    // 0.20 + (0.04 + 0.005) + (0.12 + 0.016) = 0.381
    expect(computeDarwinClusterStatus(cluster(spec), rc, JUPYTER_UP, PRICES, NOW).estimatedCostPerHour).toBe(
      "0.381",
    );
  });

  it("is 0.00 when suspended, with no workers", () => {
    const rc = rayCluster({ conditions: [cond("RayClusterSuspended", "True")], readyWorkerReplicas: 0 });
    const status = computeDarwinClusterStatus(cluster({ suspend: true }), rc, JUPYTER_UP, PRICES, NOW);
    expect(status).toMatchObject({
      phase: "Suspended",
      estimatedCostPerHour: "0.00",
      workers: { ready: 0, desired: 0 },
    });
  });

  it.each([
    [0, "0.00"],
    [0.42, "0.42"],
    [1.5, "1.50"],
    [0.0712, "0.0712"],
    [0.071, "0.071"],
    [0.123456, "0.1235"],
    [12, "12.00"],
  ])("formats %d as %s", (value, text) => {
    expect(formatCost(value)).toBe(text);
  });
});

describe("Ready condition stability", () => {
  it("keeps lastTransitionTime while the status stays, and moves it when the status changes", () => {
    const first = computeDarwinClusterStatus(cluster(), READY_RC, JUPYTER_UP, PRICES, NOW);
    const again = computeDarwinClusterStatus(
      { ...cluster(), status: first },
      READY_RC,
      JUPYTER_UP,
      PRICES,
      LATER,
    );
    expect(again).toEqual(first);

    const notReady = rayCluster({ conditions: [cond("HeadPodReady", "False")] });
    const changed = computeDarwinClusterStatus(
      { ...cluster(), status: first },
      notReady,
      JUPYTER_UP,
      PRICES,
      LATER,
    );
    expect(changed.conditions?.[0]).toMatchObject({
      status: "False",
      lastTransitionTime: "2026-11-26T11:00:00Z",
    });

    // A new reason with the same status keeps the time too (only status changes are transitions).
    const stillFalse = computeDarwinClusterStatus(
      { ...cluster(), status: changed },
      rayCluster({ conditions: [cond("HeadPodReady", "True"), cond("RayClusterProvisioned", "False")] }),
      JUPYTER_UP,
      PRICES,
      new Date("2026-11-26T12:00:00Z"),
    );
    expect(stillFalse.conditions?.[0]).toMatchObject({
      reason: "WorkersNotReady",
      lastTransitionTime: "2026-11-26T11:00:00Z",
    });
  });
});

describe("headPodCacheView", () => {
  const failedStep = {
    name: PACKAGES_CONTAINER,
    ready: false,
    restartCount: 1,
    image: "rayproject/ray:2.37.0-py310",
    state: { waiting: { reason: "CrashLoopBackOff" } },
    lastState: {
      terminated: {
        exitCode: 1,
        reason: "Error",
        message: "ERROR: No matching distribution found for nope==1.0",
      },
    },
  };
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "housing-project-head-x7k2p",
      namespace: "team-a",
      uid: "5d0c",
      resourceVersion: "42",
      labels: { "darwin.dreamhorizon.org/cluster": "housing-project", "ray.io/node-type": "head" },
      annotations: { "ray.io/ft-enabled": "false" },
    },
    spec: {
      containers: [
        { name: "ray-head", image: "rayproject/ray:2.37.0-py310", env: [{ name: "A", value: "b" }] },
      ],
      initContainers: [{ name: PACKAGES_CONTAINER, command: ["pip", "install"] }],
    },
    status: {
      phase: "Pending",
      conditions: [{ type: "Initialized", status: "False" }],
      initContainerStatuses: [failedStep],
      containerStatuses: [
        { name: "ray-head", ready: false, state: { waiting: { reason: "PodInitializing" } } },
      ],
    },
  };

  it("keeps what finds the cluster and its failed install step, and drops the rest of the pod", () => {
    const view = headPodCacheView(pod);
    expect(packagesFailure([view])).toEqual(packagesFailure([pod]));
    expect(packagesFailure([view])?.message).toContain("No matching distribution");
    expect(view.metadata).toEqual({
      name: pod.metadata.name,
      namespace: "team-a",
      uid: "5d0c",
      resourceVersion: "42",
      labels: pod.metadata.labels,
    });
    expect(view.spec).toBeUndefined();
    expect(view.status).toEqual({
      initContainerStatuses: [
        { name: PACKAGES_CONTAINER, state: failedStep.state, lastState: failedStep.lastState },
      ],
    });
  });

  it("keeps no status for a pod without install steps", () => {
    const { initContainerStatuses: _none, ...status } = pod.status as Record<string, unknown>;
    expect(headPodCacheView({ ...pod, status }).status).toBeUndefined();
  });
});
