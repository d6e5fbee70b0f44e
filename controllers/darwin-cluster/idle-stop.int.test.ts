// @testbed cluster data
/**
 * Idle auto-stop against the cluster tier (KubeRay, KWOK), the data tier's real Ray head and a real Jupyter
 * server (jupyter_server from PyPI, hack/jupyter-server-venv.sh), which the operator's clusterEndpoints
 * point every cluster at (KWOK pods run neither): a cluster running a Ray job, or whose notebook is in use,
 * is not stopped however long its limit has passed; once that ends, it is suspended after its limit with
 * IdleStopped, lastActivityTime and a Normal Event saying since when it was idle.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { eventsAbout, getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { clusterEndpoints } from "../shared/endpoints.ts";
import { RayDashboardClient } from "../shared/ray-dashboard.ts";
import { runtimeObject } from "./fixtures.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";
import type { DarwinClusterStatus } from "./status.ts";
import { freePort, startJupyterServer } from "./testing/jupyter-server.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-idle-${RUN}`;
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };
/** 0.1 minutes: 6 seconds without activity stop the cluster. */
const LIMIT_MINUTES = 0.1;

let ray: RayDashboardClient;
let jupyterURL: string;
let jupyter: ChildProcess | undefined;

async function startJupyter(): Promise<string> {
  const root = join(process.env.TMPDIR ?? "/tmp", `compute-jupyter-${RUN}`);
  const server = await startJupyterServer({ port: await freePort(), root });
  jupyter = server.process;
  return server.url;
}
const tb = useTestbed({ namespace: "compute-idle", cleanup: [DARWIN_CLUSTERS] });

beforeAll(async () => {
  const dashboard = process.env.DARWIN_RAY_DASHBOARD;
  if (!dashboard) throw new Error("DARWIN_RAY_DASHBOARD is not set: the data tier is not up");
  ray = new RayDashboardClient(dashboard);
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME_NAME, `Ray2.37.0-Idle-${RUN}`));
  jupyterURL = await startJupyter();
  tb.defer(() => jupyter?.kill());
  const endpoints = clusterEndpoints.parse({ rayDashboard: dashboard, jupyter: jupyterURL });
  await tb.startOperator([
    createDarwinClusterController({ activity: { endpoints, probeIntervalMs: 1_000 } }),
  ]);
});

function clusterObject(name: string, jupyterEnabled: boolean) {
  return {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name },
    spec: {
      runtime: RUNTIME_NAME,
      owner: "ana@example.com",
      inactiveTimeMinutes: LIMIT_MINUTES,
      head: { cores: 1, memory: "2Gi" },
      jupyter: { enabled: jupyterEnabled },
    },
  };
}

async function cluster(name: string) {
  const object = await getObject(tb.client, DARWIN_CLUSTERS, tb.namespace, name);
  return {
    spec: object?.spec as { suspend?: boolean },
    status: (object?.status ?? {}) as DarwinClusterStatus,
  };
}

describe("idle auto-stop", () => {
  it("keeps a cluster running a Ray job, and suspends it once it has been idle for its limit", async () => {
    const name = "notebook-idle";
    const submissionId = `compute-idle-${RUN}`;
    await ray.submitJob({ submissionId, entrypoint: `python -c "import time; time.sleep(600)"` });
    tb.defer(() => ray.stopJob(submissionId));
    await waitFor(
      "the Ray job running",
      async () => (await ray.getJob(submissionId))?.status === "RUNNING",
      SLOW,
    );

    await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], clusterObject(name, false));
    await waitFor("cluster Ready", async () => (await cluster(name)).status.phase === "Ready", SLOW);
    const readyAt = Date.now();
    // Three limits pass while the job runs: the cluster keeps running and its activity keeps moving.
    await waitFor(
      "activity seen three limits after Ready",
      async () => Date.parse((await cluster(name)).status.lastActivityTime ?? "") >= readyAt + 18_000,
      SLOW,
    );
    const busy = await cluster(name);
    expect(busy.spec.suspend).not.toBe(true);
    expect(findCondition(busy.status.conditions, "ActivityProbe")).toMatchObject({
      status: "True",
      reason: "Active",
    });

    await ray.stopJob(submissionId);
    const stoppedAt = Date.now();
    await waitFor("cluster suspended", async () => (await cluster(name)).spec.suspend === true, SLOW);
    const idle = await cluster(name);
    // Not before the limit: the idle stretch started no earlier than the job's last sighting.
    expect(Date.now() - Date.parse(idle.status.lastActivityTime ?? "")).toBeGreaterThanOrEqual(
      LIMIT_MINUTES * 60_000,
    );
    expect(Date.parse(idle.status.lastActivityTime ?? "")).toBeGreaterThanOrEqual(stoppedAt - 5_000);
    expect(findCondition(idle.status.conditions, "IdleStopped")).toMatchObject({
      status: "True",
      reason: "Idle",
    });
    const events = await eventsAbout(tb.client, tb.namespace, name);
    const stopped = events.find((e) => e.reason === "IdleStopped");
    expect(stopped?.type).toBe("Normal");
    expect(stopped?.note).toContain(`idle since ${idle.status.lastActivityTime}`);
    await waitFor("phase Suspended", async () => (await cluster(name)).status.phase === "Suspended", SLOW);
  });

  it("keeps a cluster whose notebook is in use, and suspends it once the notebook has been idle for its limit", async () => {
    const name = "notebook-busy";
    await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], clusterObject(name, true));
    await waitFor("cluster Ready", async () => (await cluster(name)).status.phase === "Ready", SLOW);
    const readyAt = Date.now();
    // A user browsing files in the notebook every 2 s for three limits (each request is Jupyter activity).
    while (Date.now() < readyAt + 18_000) {
      const listing = await fetch(`${jupyterURL}/api/contents`);
      expect(listing.ok).toBe(true);
      expect((await cluster(name)).spec.suspend).not.toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    const lastUse = Date.now();
    const busy = await cluster(name);
    expect(Date.parse(busy.status.lastActivityTime ?? "")).toBeGreaterThanOrEqual(readyAt + 10_000);

    await waitFor("cluster suspended", async () => (await cluster(name)).spec.suspend === true, SLOW);
    const idle = await cluster(name);
    expect(Date.parse(idle.status.lastActivityTime ?? "")).toBeGreaterThanOrEqual(lastUse - 5_000);
    expect(findCondition(idle.status.conditions, "IdleStopped")).toMatchObject({
      status: "True",
      reason: "Idle",
    });
  });
});
