// @testbed cluster data
/**
 * The Jupyter server's token: the operator creates a Secret with a random token for a Jupyter-enabled
 * cluster and gives it to the Deployment as JUPYTER_TOKEN; a real Jupyter server started with it (as the
 * pod would be) refuses requests without it, and the activity probe, which sends it, reads the server's
 * activity (ActivityProbe=True, not ProbeFailed). The token survives reconciles unchanged.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { clusterEndpoints } from "../shared/endpoints.ts";
import { DEPLOYMENTS, SECRETS } from "../shared/resource-types.ts";
import { runtimeObject } from "./fixtures.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";
import { jupyterName, jupyterToken } from "./render/jupyter.ts";
import type { DarwinClusterStatus } from "./status.ts";
import { freePort, startJupyterServer } from "./testing/jupyter-server.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-jtoken-${RUN}`;
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };
const NAME = "notebook";
let port: number;
let jupyter: ChildProcess | undefined;

const tb = useTestbed({ namespace: "compute-jtoken", cleanup: [DARWIN_CLUSTERS] });

beforeAll(async () => {
  const dashboard = process.env.DARWIN_RAY_DASHBOARD;
  if (!dashboard) throw new Error("DARWIN_RAY_DASHBOARD is not set: the data tier is not up");
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  tb.defer(() => jupyter?.kill());
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME_NAME, `Ray2.37.0-JToken-${RUN}`));
  port = await freePort();
  const endpoints = clusterEndpoints.parse({ rayDashboard: dashboard, jupyter: `http://127.0.0.1:${port}` });
  await tb.startOperator([
    createDarwinClusterController({ activity: { endpoints, probeIntervalMs: 1_000 } }),
  ]);
});

async function status(): Promise<DarwinClusterStatus> {
  const object = await getObject(tb.client, DARWIN_CLUSTERS, tb.namespace, NAME);
  return (object?.status ?? {}) as DarwinClusterStatus;
}

describe("the Jupyter token", () => {
  it("is made once, given to Jupyter, and sent by the activity probe", async () => {
    await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], {
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: DARWIN_CLUSTERS.kind,
      metadata: { name: NAME },
      spec: {
        runtime: RUNTIME_NAME,
        owner: "ana@example.com",
        inactiveTimeMinutes: 60,
        head: { cores: 1, memory: "2Gi" },
        jupyter: { enabled: true },
      },
    });
    const secretName = jupyterName(NAME);
    let token: string | undefined;
    await waitFor(
      "the token Secret",
      async () => {
        token = jupyterToken(await getObject(tb.client, SECRETS, tb.namespace, secretName));
        return token !== undefined;
      },
      SLOW,
    );
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    const deployment = await getObject(tb.client, DEPLOYMENTS, tb.namespace, secretName);
    const template = (deployment?.spec ?? {}) as {
      template?: { spec?: { containers?: { env?: unknown[] }[] } };
    };
    const env = template.template?.spec?.containers?.[0]?.env;
    expect(env).toContainEqual({
      name: "JUPYTER_TOKEN",
      valueFrom: { secretKeyRef: { name: secretName, key: "token" } },
    });

    const server = await startJupyterServer({
      port,
      root: join(process.env.TMPDIR ?? "/tmp", `compute-jtoken-${RUN}`),
      token: token ?? "",
    });
    jupyter = server.process;
    // Jupyter's login is on: without the token the API refuses.
    expect((await fetch(`${server.url}/api/status`)).status).toBe(403);

    await waitFor(
      "the activity probe reading Jupyter",
      async () => findCondition((await status()).conditions, "ActivityProbe")?.status === "True",
      SLOW,
    );
    expect(findCondition((await status()).conditions, "ActivityProbe")?.reason).toBe("Idle");
    // Reconciled since (the probe requeues every second): the token is the one the server started with.
    expect(jupyterToken(await getObject(tb.client, SECRETS, tb.namespace, secretName))).toBe(token);
  });
});
