// @testbed cluster
/**
 * The simulated cluster: the real controller-manager, scheduler and KubeRay operator with KWOK nodes turn
 * Deployments and RayClusters into Running pods, and respect the spot nodes' taint and label.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string };
}

const SPOT = "darwin.dreamhorizon.org/capacity";

const tb = useTestbed({ namespace: "cluster" });
let ns = "";
beforeAll(() => {
  ns = tb.namespace;
  tb.defer(() => kubectl(["delete", "deployment,raycluster", "--all", "-n", ns, "--wait=false"]));
});

async function pods(selector: string): Promise<Pod[]> {
  const out = await kubectlOk(["get", "pods", "-n", ns, "-l", selector, "-o", "json"]);
  return (JSON.parse(out) as { items: Pod[] }).items;
}

const deployment = (name: string, replicas: number, podSpec: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "app", image: "registry.example.com/app:1" }], ...podSpec },
    },
  },
});

describe("cluster tier", () => {
  it("has KWOK nodes, on-demand and spot, Ready", async () => {
    const nodes = JSON.parse(await kubectlOk(["get", "nodes", "-o", "json"])) as {
      items: {
        metadata: { name: string; labels: Record<string, string> };
        spec: { taints?: { key: string; value: string; effect: string }[] };
        status: { conditions: { type: string; status: string }[] };
      }[];
    };
    const names = requireEnv("DARWIN_KWOK_NODES").split(",");
    for (const name of names) {
      const node = nodes.items.find((n) => n.metadata.name === name);
      expect(node?.status.conditions.find((c) => c.type === "Ready")?.status, name).toBe("True");
    }
    const spot = nodes.items.filter((n) => n.metadata.labels[SPOT] === "spot");
    expect(spot.length).toBeGreaterThan(0);
    for (const node of spot) {
      expect(node.spec.taints).toContainEqual({ key: SPOT, value: "spot", effect: "NoSchedule" });
    }
  });

  it("turns a Deployment into a ReplicaSet and Running pods through the scheduler and KWOK", async () => {
    await kubectlOk(["apply", "-f", "-"], deployment("web", 3));
    await kubectlOk(["rollout", "status", "deployment/web", "-n", ns, "--timeout=90s"]);
    const running = await pods("app=web");
    expect(running).toHaveLength(3);
    for (const pod of running) {
      expect(pod.status.phase).toBe("Running");
      expect(pod.spec.nodeName).toMatch(/^kwok-ondemand-/); // spot nodes are tainted: nothing lands there unasked
      expect(pod.status.podIP).toBeTruthy();
      expect(pod.metadata.ownerReferences?.[0]?.kind).toBe("ReplicaSet");
    }
  });

  it("places pods that tolerate the spot taint and select the spot label on spot nodes", async () => {
    await kubectlOk(
      ["apply", "-f", "-"],
      deployment("batch", 4, {
        nodeSelector: { [SPOT]: "spot" },
        tolerations: [{ key: SPOT, operator: "Equal", value: "spot", effect: "NoSchedule" }],
      }),
    );
    await kubectlOk(["rollout", "status", "deployment/batch", "-n", ns, "--timeout=90s"]);
    const placed = await pods("app=batch");
    expect(placed).toHaveLength(4);
    for (const pod of placed) expect(pod.spec.nodeName).toMatch(/^kwok-spot-/);
  });

  it("runs KubeRay's sample RayCluster: head and worker pods Running, and KubeRay reports it ready", async () => {
    const sample = parse(
      readFileSync(join(requireEnv("DARWIN_KUBERAY_SAMPLES"), "ray-cluster.sample.yaml"), "utf8"),
    ) as { metadata: { name: string } };
    const name = sample.metadata.name;
    await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], sample);

    const cluster = await waitFor(
      "the RayCluster to be provisioned",
      async () => {
        const rc = JSON.parse(await kubectlOk(["get", "raycluster", name, "-n", ns, "-o", "json"])) as {
          status?: {
            state?: string;
            conditions?: { type: string; status: string }[];
            readyWorkerReplicas?: number;
          };
        };
        const provisioned = rc.status?.conditions?.find((c) => c.type === "RayClusterProvisioned");
        return provisioned?.status === "True" ? rc : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(cluster.status?.conditions?.find((c) => c.type === "HeadPodReady")?.status).toBe("True");
    expect(cluster.status?.state).toBe("ready");
    expect(cluster.status?.readyWorkerReplicas).toBe(1);

    const rayPods = await pods(`ray.io/cluster=${name}`);
    const types = rayPods.map((p) => p.metadata.labels?.["ray.io/node-type"]).sort();
    expect(types).toEqual(["head", "worker"]);
    for (const pod of rayPods) expect(pod.status.phase).toBe("Running");
  });

  it("has a Helm built for this Kubernetes: a chart renders and the apiserver accepts it (server dry-run)", async () => {
    const helm = requireEnv("DARWIN_HELM");
    expect(execFileSync(helm, ["version", "--short"], { encoding: "utf8" })).toMatch(/^v3\./);
    const dir = mkdtempSync(join(tmpdir(), "darwin-chart-"));
    try {
      execFileSync(helm, ["create", join(dir, "demo")], { encoding: "utf8" });
      const rendered = execFileSync(helm, ["template", "demo", join(dir, "demo"), "--namespace", ns], {
        encoding: "utf8",
      });
      const out = await kubectlOk(
        ["apply", "--server-side", "--dry-run=server", "-n", ns, "-f", "-"],
        rendered,
      );
      expect(out).toMatch(/deployment\.apps\/demo serverside-applied \(server dry run\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
