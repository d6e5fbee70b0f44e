// @testbed control data
/**
 * `hermes job submit|logs -f|stop` run as a user would (the hermes command, its own ~/.hermes), against the
 * DarwinJob controller in this process and the data tier's real Ray head (the operator's clusterEndpoints
 * point the cluster's dashboard at it; `logs` reads it with --dashboard, as the KWOK head Service has no
 * Ray behind it for the apiserver's proxy).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DARWIN_CLUSTERS } from "../controllers/darwin-cluster/reconciler.ts";
import { createDarwinJobController, DARWIN_JOBS } from "../controllers/darwin-job/reconciler.ts";
import type { DarwinJobStatus } from "../controllers/darwin-job/status.ts";
import { hermes, hermesOk } from "../controllers/serve/testing/hermes.ts";
import { directHttp } from "../controllers/shared/cluster-http.ts";
import { clusterEndpoints } from "../controllers/shared/endpoints.ts";
import { RayDashboardClient } from "../controllers/shared/ray-dashboard.ts";
import { getObject, waitFor } from "../operator/testing/testbed.ts";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { kubectlOk } from "../test-e2e/support/kubectl.ts";

const CLUSTER = "analytics";
const RAY = { timeoutMs: 60_000, intervalMs: 250 };
let home: string;
let dashboard: string;
let ray: RayDashboardClient;

const tb = useTestbed({ namespace: "compute-hermes-job", cleanup: [DARWIN_JOBS, DARWIN_CLUSTERS] });

beforeAll(async () => {
  const url = process.env.DARWIN_RAY_DASHBOARD;
  if (!url) throw new Error("DARWIN_RAY_DASHBOARD is not set: the data tier is not up");
  dashboard = url;
  ray = new RayDashboardClient(dashboard);
  home = mkdtempSync(join(tmpdir(), "hermes-job-"));
  await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name: CLUSTER },
    spec: { runtime: "Ray2.37.0-Py310-CPU", owner: "ana@example.com", head: { cores: 1, memory: "2Gi" } },
  });
  const endpoints = clusterEndpoints.parse({ rayDashboard: dashboard });
  await tb.startOperator([createDarwinJobController({ endpoints, pollIntervalMs: 500 })]);
});

async function status(name: string): Promise<DarwinJobStatus> {
  return ((await getObject(tb.client, DARWIN_JOBS, tb.namespace, name))?.status ?? {}) as DarwinJobStatus;
}

describe("hermes job", () => {
  it("submits a job and waits for SUCCEEDED; a failing one exits 1 with Ray's error", async () => {
    const ok = await hermesOk(
      [
        ...["job", "submit", "--cluster", CLUSTER, "-n", tb.namespace, "--name", "hello"],
        ...["--env", "EPOCHS=3", "--", "python", "-c", `"import os; print('epochs', os.environ['EPOCHS'])"`],
      ],
      home,
    );
    expect(ok).toContain(`darwinjob/hello submitted in namespace ${tb.namespace}`);
    const done = await status("hello");
    expect(done.jobStatus).toBe("SUCCEEDED");
    expect(done.logTail).toContain("epochs 3");

    const failed = await hermes(
      [
        ...["job", "submit", "--cluster", CLUSTER, "-n", tb.namespace, "--name", "broken", "--"],
        ...["python", "-c", `"import sys; sys.exit('no such table: sales')"`],
      ],
      home,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/broken: FAILED: .*exit code 1/);

    const missing = await hermes(
      ["job", "submit", "--cluster", "nope", "-n", tb.namespace, "--", "python", "-V"],
      home,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--cluster: DarwinCluster nope does not exist");
  });

  it("follows a job's whole log with logs -f until it ends", async () => {
    // 30 lines over 3 seconds: more than the 20 lines status.logTail keeps, and still growing when followed.
    const program = `"import time; [print(f'step {i}', flush=True) or time.sleep(0.1) for i in range(30)]"`;
    await hermesOk(
      [
        ...["job", "submit", "--no-wait", "--cluster", CLUSTER, "-n", tb.namespace, "--name", "steps"],
        ...["--", "python", "-c", program],
      ],
      home,
    );
    const followed = await hermes(
      ["job", "logs", "steps", "-f", "-n", tb.namespace, "--dashboard", dashboard],
      home,
    );
    expect(followed.code, followed.stderr).toBe(0);
    const steps = followed.stdout.split("\n").filter((line) => line.startsWith("step "));
    expect(steps).toEqual(Array.from({ length: 30 }, (_, i) => `step ${i}`));
    expect(followed.stderr).toContain("steps: SUCCEEDED");
  });

  it("prints the lines the DarwinJob kept once the cluster's Ray no longer has the job", async () => {
    await hermesOk(
      [
        ...["job", "submit", "--cluster", CLUSTER, "-n", tb.namespace, "--name", "forgotten"],
        ...["--", "python", "-c", `"print('rmse 0.42')"`],
      ],
      home,
    );
    const done = await status("forgotten");
    // Ray forgets the job as a restarted head does (the Jobs API's delete of an ended job; node:http, since
    // the dashboard refuses what fetch sends as a browser's request).
    const deleted = await directHttp("DELETE", `${dashboard}/api/jobs/${done.submissionId}`);
    expect(deleted.status).toBe(200);
    const logs = await hermes(
      ["job", "logs", "forgotten", "-n", tb.namespace, "--dashboard", dashboard],
      home,
    );
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain("rmse 0.42");
    expect(logs.stderr).toContain(`the Ray of cluster ${CLUSTER} no longer has this job`);
  });

  it("stops a running job: Ray says STOPPED and the DarwinJob stays with it", async () => {
    await hermesOk(
      [
        ...["job", "submit", "--no-wait", "--cluster", CLUSTER, "-n", tb.namespace, "--name", "sleeper"],
        ...["--", "python", "-c", `"import time; time.sleep(600)"`],
      ],
      home,
    );
    await waitFor("the job running", async () => (await status("sleeper")).jobStatus === "RUNNING", RAY);
    const stopped = await hermesOk(["job", "stop", "sleeper", "-n", tb.namespace], home);
    expect(stopped).toContain("darwinjob/sleeper stopping");
    const after = await status("sleeper");
    expect(after.jobStatus).toBe("STOPPED");
    expect((await ray.getJob(after.submissionId ?? ""))?.status).toBe("STOPPED");
    const again = await hermesOk(["job", "stop", "sleeper", "-n", tb.namespace], home);
    expect(again).toContain("already ended: STOPPED");
  });
});
