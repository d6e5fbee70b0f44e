// @testbed cluster
/**
 * Idle auto-stop when activity cannot be read: with the Ray dashboard address pointing at a port where
 * nothing listens, a Ready cluster whose limit has long passed keeps running, and its ActivityProbe
 * condition says why activity could not be read.
 */
import { createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { clusterEndpoints } from "../shared/endpoints.ts";
import { runtimeObject } from "./fixtures.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";
import type { DarwinClusterStatus } from "./status.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-probe-${RUN}`;
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };

const tb = useTestbed({ namespace: "compute-probe", cleanup: [DARWIN_CLUSTERS] });

/** A loopback port nothing listens on (taken from the kernel, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

beforeAll(async () => {
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME_NAME, `Ray2.37.0-Probe-${RUN}`));
  const endpoints = clusterEndpoints.parse({ rayDashboard: `http://127.0.0.1:${await closedPort()}` });
  await tb.startOperator([
    createDarwinClusterController({ activity: { endpoints, probeIntervalMs: 1_000 } }),
  ]);
});

describe("idle auto-stop without a readable dashboard", () => {
  it("reports the failed probe and keeps the cluster running past its limit", async () => {
    const name = "unreadable";
    await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], {
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: DARWIN_CLUSTERS.kind,
      metadata: { name },
      spec: {
        runtime: RUNTIME_NAME,
        owner: "ana@example.com",
        inactiveTimeMinutes: 0.05,
        head: { cores: 1, memory: "2Gi" },
        jupyter: { enabled: false },
      },
    });
    const read = async () => {
      const object = await getObject(tb.client, DARWIN_CLUSTERS, tb.namespace, name);
      return {
        spec: object?.spec as { suspend?: boolean },
        status: (object?.status ?? {}) as DarwinClusterStatus,
      };
    };
    await waitFor("cluster Ready", async () => (await read()).status.phase === "Ready", SLOW);
    const readyAt = Date.now();
    // Four limits of 3 s, probed every second: a probe failure taken for idleness would have stopped it.
    await waitFor(
      "ProbeFailed reported four limits past Ready",
      async () =>
        Date.now() > readyAt + 12_000 &&
        findCondition((await read()).status.conditions, "ActivityProbe")?.reason === "ProbeFailed",
      SLOW,
    );
    const { spec, status } = await read();
    expect(spec.suspend).not.toBe(true);
    expect(status.phase).toBe("Ready");
    const probe = findCondition(status.conditions, "ActivityProbe");
    expect(probe).toMatchObject({ status: "False", reason: "ProbeFailed" });
    expect(probe?.message).toMatch(/ECONNREFUSED/);
    expect(findCondition(status.conditions, "IdleStopped")).toBeUndefined();
  });
});
