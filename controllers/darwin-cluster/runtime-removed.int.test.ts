// @testbed cluster
/**
 * A Ready cluster whose runtime is deleted: its RayCluster keeps running, and `kubectl get darwincluster`
 * shows PHASE Pending with READY False, never a Ready phase beside a False Ready condition.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { RAY_CLUSTERS } from "../shared/resource-types.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-gone-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-Gone-${RUN}`;
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };
const NAME = "housing";

let client: KubeClient;
let namespace = "";

const runtime = {
  apiVersion: DARWIN_CLUSTERS.apiVersion,
  kind: "DarwinRuntime",
  metadata: { name: RUNTIME_NAME },
  spec: {
    displayName: RUNTIME_DISPLAY,
    rayVersion: "2.37.0",
    pythonVersion: "3.10",
    image: "rayproject/ray:2.37.0-py310",
  },
};

async function status() {
  const object = await getObject(client, DARWIN_CLUSTERS, namespace, NAME);
  return (object?.status ?? {}) as { phase?: string; conditions?: Parameters<typeof findCondition>[0] };
}

/** PHASE and READY as `kubectl get darwincluster` prints them. */
async function columns(): Promise<{ phase: string | undefined; ready: string | undefined }> {
  const [header = "", row = ""] = (await kubectlOk(["get", "darwincluster", NAME, "-n", namespace]))
    .trim()
    .split("\n");
  const cells = row.split(/\s+/);
  const titles = header.split(/\s+/);
  return { phase: cells[titles.indexOf("PHASE")], ready: cells[titles.indexOf("READY")] };
}

const tb = useTestbed({ namespace: "dc-gone", cleanup: [DARWIN_CLUSTERS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  await kubectlOk(["apply", "-f", "-"], runtime);
  await tb.startOperator([createDarwinClusterController()]);
});

describe("a DarwinCluster whose runtime is deleted", () => {
  it("shows PHASE Pending and READY False while its RayCluster keeps running", async () => {
    await kubectlOk(["apply", "-f", "-"], {
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: DARWIN_CLUSTERS.kind,
      metadata: { name: NAME, namespace },
      spec: {
        runtime: RUNTIME_DISPLAY,
        owner: "ana@example.com",
        head: { cores: 1, memory: "2Gi" },
        workerGroups: [{ name: "spot", cores: 1, memory: 2, minPods: 1, maxPods: 1, capacity: "spot" }],
        jupyter: { enabled: false },
      },
    });
    await waitFor(
      "DarwinCluster Ready",
      async () => findCondition((await status()).conditions, "Ready")?.status === "True",
      SLOW,
    );
    expect(await columns()).toEqual({ phase: "Ready", ready: "True" });

    await kubectlOk(["delete", "darwinruntime", RUNTIME_NAME]);
    const ready = await waitFor(
      "Ready=False RuntimeNotFound",
      async () => {
        const condition = findCondition((await status()).conditions, "Ready");
        return condition?.reason === "RuntimeNotFound" ? condition : undefined;
      },
      SLOW,
    );
    expect(ready.status).toBe("False");
    expect(await columns()).toEqual({ phase: "Pending", ready: "False" });
    // the running RayCluster is left alone
    expect(await getObject(client, RAY_CLUSTERS, namespace, NAME)).toBeDefined();

    // the runtime comes back: Ready again
    await kubectlOk(["apply", "-f", "-"], runtime);
    await waitFor(
      "DarwinCluster Ready again",
      async () => findCondition((await status()).conditions, "Ready")?.status === "True",
      SLOW,
    );
    expect(await columns()).toEqual({ phase: "Ready", ready: "True" });
  });
});
