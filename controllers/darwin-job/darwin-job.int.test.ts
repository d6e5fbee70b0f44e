// @testbed control data
/**
 * The DarwinJob controller against the apiserver and the data tier's real Ray head (the KWOK pods of the
 * cluster tier run no Ray, so the operator's clusterEndpoints point every cluster's dashboard at it): a job
 * runs to SUCCEEDED with its log tail in status, a failing entrypoint gives FAILED with Ray's error, and
 * deleting a running job stops it in Ray.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { eventsAbout, getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { DARWIN_CLUSTERS } from "../darwin-cluster/reconciler.ts";
import { clusterEndpoints } from "../shared/endpoints.ts";
import { RayDashboardClient } from "../shared/ray-dashboard.ts";
import { createDarwinJobController, DARWIN_JOBS } from "./reconciler.ts";
import type { DarwinJobStatus } from "./status.ts";

/** Ray starts a job's driver in a few seconds on the testbed; a job that runs Python takes a few more. */
const RAY = { timeoutMs: 60_000, intervalMs: 250 };
const CLUSTER = "analytics";

let client: KubeClient;
let namespace: string;
let ray: RayDashboardClient;

const tb = useTestbed({ namespace: "compute-dj", cleanup: [DARWIN_JOBS, DARWIN_CLUSTERS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  const dashboard = process.env.DARWIN_RAY_DASHBOARD;
  if (!dashboard) throw new Error("DARWIN_RAY_DASHBOARD is not set: the data tier is not up");
  ray = new RayDashboardClient(dashboard);
  // Only the object matters to the job controller: it submits to the cluster's (overridden) dashboard.
  await kubectlOk(["apply", "-n", namespace, "-f", "-"], {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name: CLUSTER },
    spec: { runtime: "Ray2.37.0-Py310-CPU", owner: "ana@example.com", head: { cores: 1, memory: "2Gi" } },
  });
  const endpoints = clusterEndpoints.parse({ rayDashboard: dashboard });
  await tb.startOperator([createDarwinJobController({ endpoints, pollIntervalMs: 500 })]);
});

function darwinJob(name: string, entrypoint: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: DARWIN_JOBS.apiVersion,
    kind: DARWIN_JOBS.kind,
    metadata: { name, namespace },
    spec: { cluster: CLUSTER, entrypoint, ...extra },
  };
}

async function status(name: string): Promise<DarwinJobStatus> {
  return ((await getObject(client, DARWIN_JOBS, namespace, name))?.status ?? {}) as DarwinJobStatus;
}

const waitJobStatus = (name: string, jobStatus: string) =>
  waitFor(`DarwinJob ${name} ${jobStatus}`, async () => (await status(name)).jobStatus === jobStatus, RAY);

describe("DarwinJob", () => {
  it("runs a Ray job to SUCCEEDED with its times and the end of its log in status", async () => {
    const name = "hello";
    await kubectlOk(
      ["apply", "-f", "-"],
      darwinJob(
        name,
        `python -c "import os; print('epochs', os.environ['EPOCHS']); print('hello from ray')"`,
        {
          runtimeEnv: { envVars: [{ name: "EPOCHS", value: "3" }] },
        },
      ),
    );
    await waitJobStatus(name, "SUCCEEDED");
    const done = await status(name);
    expect(done.logTail).toContain("epochs 3");
    expect(done.logTail?.trim().split("\n").at(-1)).toBe("hello from ray");
    expect(Date.parse(done.endTime ?? "")).toBeGreaterThanOrEqual(Date.parse(done.startTime ?? ""));
    expect(done.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      reason: "Succeeded",
    });
    // Ray has the job under the recorded submission id, with the same outcome.
    expect((await ray.getJob(done.submissionId ?? ""))?.status).toBe("SUCCEEDED");
    const listing = await kubectlOk(["get", "dj", name, "-n", namespace]);
    expect(listing).toMatch(/SUCCEEDED/);
    const reasons = (await eventsAbout(client, namespace, name)).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Submitted", "SUCCEEDED"]));
  });

  it("reports a failing entrypoint as FAILED with Ray's error and the job's last output", async () => {
    const name = "broken";
    await kubectlOk(
      ["apply", "-f", "-"],
      darwinJob(name, `python -c "import sys; print('loading data'); sys.exit('no such table: sales')"`),
    );
    await waitJobStatus(name, "FAILED");
    const failed = await status(name);
    expect(failed.message).toMatch(/exit code 1/);
    expect(failed.logTail).toContain("no such table: sales");
    const ready = failed.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "Failed" });
    expect(ready?.message).toMatch(/exit code 1/);
    const warnings = (await eventsAbout(client, namespace, name)).filter((e) => e.type === "Warning");
    expect(warnings.map((e) => e.reason)).toContain("FAILED");
  });

  it("stops the job in Ray when the DarwinJob is deleted while it runs", async () => {
    const name = "long";
    await kubectlOk(
      ["apply", "-f", "-"],
      darwinJob(name, `python -c "import time; print('started'); time.sleep(600)"`),
    );
    await waitJobStatus(name, "RUNNING");
    const submissionId = (await status(name)).submissionId ?? "";
    expect(submissionId).not.toBe("");
    await kubectlOk(["delete", "dj", name, "-n", namespace, "--wait=true", "--timeout=60s"]);
    expect(await getObject(client, DARWIN_JOBS, namespace, name)).toBeUndefined();
    await waitFor(
      `Ray job ${submissionId} STOPPED`,
      async () => (await ray.getJob(submissionId))?.status === "STOPPED",
      RAY,
    );
  });
});
