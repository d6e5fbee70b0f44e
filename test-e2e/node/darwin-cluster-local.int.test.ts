// @testbed node
/**
 * The DarwinCluster sample on the `local` runtime, run for real: the operator (in this process) renders the
 * RayCluster, KubeRay creates the head pod, and the real node runs Ray from the darwin-ray image of the local
 * registry. The head's dashboard answers at the head Service's name. The operator, outside the cluster's
 * network like the testbed's, reaches the head through the apiserver's service proxy
 * (`clusterEndpoints.via: apiserver`): it reads the cluster's activity, and a DarwinJob it submits runs on
 * the cluster and succeeds. The cluster's `packages.pip` (a wheel this file builds and serves to the node)
 * is installed on every Ray pod before Ray starts: the job's task, on the worker, imports it. A requirement
 * pip cannot fetch makes a cluster PackagesFailed, with pip's message.
 */

import { execFileSync } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { autoscalerConfig } from "../../controllers/darwin-cluster/autoscaler.ts";
import { createDarwinClusterController } from "../../controllers/darwin-cluster/reconciler.ts";
import { headServiceName, rayClusterName } from "../../controllers/darwin-cluster/render/ray-cluster.ts";
import { createDarwinJobController } from "../../controllers/darwin-job/reconciler.ts";
import { clusterEndpoints } from "../../controllers/shared/endpoints.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { startManager, type TestManager, testConfig } from "../../operator/testing/testbed.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";
import { nodeName, rayImage, realNodeNamespace, waitPodReady } from "./real-node.ts";

const REPO = join(import.meta.dirname, "..", "..");
const SAMPLES = join(REPO, "samples", "local");
const sample = (kind: string) =>
  parse(
    readFileSync(join(SAMPLES, `darwin.dreamhorizon.org_v1alpha1_${kind}.yaml`), "utf8"),
  ) as KubeObject & {
    spec: Record<string, unknown>;
  };

let namespace: string;

/** `kubectl get pods` of the cluster (only its head when `head`), printed as `output` says. */
const clusterPods = (head: boolean, output: string) =>
  kubectlOk([
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    `ray.io/cluster=${rayClusterName(name)}${head ? ",ray.io/node-type=head" : ""}`,
    "-o",
    output,
  ]);
/** `kubectl get <kind> <object> -o jsonpath=<path>` in the test's namespace as JSON; undefined when empty. */
async function getJsonpath<T>(kind: string, object: string, path: string): Promise<T | undefined> {
  const out = await kubectlOk(["-n", namespace, "get", kind, object, "-o", `jsonpath=${path}`]);
  return out.trim() ? (JSON.parse(out) as T) : undefined;
}
let operator: TestManager;
let dashboard: string;
let wheels: Server | undefined;
/** The wheels' file server as the node's pods reach it. */
let wheelBase: string;
const cluster = sample("darwincluster");
const name = cluster.metadata.name;

/** The package the cluster installs: one module whose answer() is 42. */
const PROBE_WHEEL = "darwin_node_probe-1.0-py3-none-any.whl";

/** Builds the probe's wheel (a zip with its dist-info and RECORD) in a new directory; returns the directory. */
function buildProbeWheel(): string {
  const dir = mkdtempSync(join(tmpdir(), "darwin-wheel-"));
  const script = `
import base64, hashlib, sys, zipfile
files = {
  "darwin_node_probe/__init__.py": "def answer():\\n    return 6 * 7\\n",
  "darwin_node_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: darwin-node-probe\\nVersion: 1.0\\n",
  "darwin_node_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: darwin-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(sys.argv[1], "w") as z:
  for path, text in files.items():
    data = text.encode()
    z.writestr(path, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
  record.append("darwin_node_probe-1.0.dist-info/RECORD,,")
  z.writestr("darwin_node_probe-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
`;
  execFileSync("python3", ["-c", script, join(dir, PROBE_WHEEL)]);
  return dir;
}

/** Serves the directory's files on every address of this machine, so the node's pods reach it. */
async function serveFiles(dir: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const file = join(dir, basename(req.url ?? "/"));
    if (!existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

beforeAll(async () => {
  namespace = await realNodeNamespace("node-dc");
  const served = await serveFiles(buildProbeWheel());
  wheels = served.server;
  wheelBase = `http://${requireEnv("DARWIN_NODE_IP")}:${served.port}`;
  cluster.spec.packages = { pip: [`darwin-node-probe @ ${wheelBase}/${PROBE_WHEEL}`] };
  await kubectlOk(["apply", "--server-side", "-f", "-"], sample("darwinruntime"));
  const endpoints = clusterEndpoints.parse({ via: "apiserver" });
  operator = await startManager(
    [
      // The testbed operator's autoscaler resources: the node's two CPUs hold this file's clusters beside
      // the quick start's.
      createDarwinClusterController({
        activity: { endpoints, probeIntervalMs: 2_000 },
        autoscaler: autoscalerConfig.parse(
          parse(readFileSync(join(REPO, "hack", "operator-local.yaml"), "utf8")).rayAutoscaler,
        ),
      }),
      createDarwinJobController({ endpoints, pollIntervalMs: 1_000 }),
    ],
    testConfig(namespace),
  );
  await kubectlOk(["apply", "-n", namespace, "-f", "-"], cluster);
  const head = await waitFor(
    "the Ray head pod",
    async () => {
      const out = await clusterPods(true, "jsonpath={.items[*].metadata.name}");
      return out.trim() || undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  // the first run pulls the image from the local registry: give it time
  await waitPodReady(namespace, head, 600_000);
  // KubeRay's head Service is headless: its name resolves to the head pod's address, here through the
  // node's CoreDNS, as a pod would resolve it
  const resolver = new Resolver();
  resolver.setServers([requireEnv("DARWIN_NODE_DNS")]);
  const [ip] = await waitFor(
    "the head Service's DNS name",
    async () => {
      const ips = await resolver.resolve4(`${headServiceName(name)}.${namespace}.svc.cluster.local`);
      return ips.length > 0 ? ips : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  dashboard = `http://${ip}:8265`;
}, 900_000);

afterAll(async () => {
  if (namespace)
    await kubectl([
      "delete",
      "darwinjobs,darwinclusters",
      "--all",
      "-n",
      namespace,
      "--wait=true",
      "--timeout=60s",
    ]);
  await operator?.stop();
  wheels?.close();
  if (namespace) await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
});

describe("the DarwinCluster sample on the local runtime", () => {
  it("runs its pods on the real node from the darwin-ray image", async () => {
    const runtime = sample("darwinruntime");
    expect(runtime.spec.image).toBe(rayImage());
    type Pods = { items: Array<{ spec: { nodeName?: string; containers: Array<{ image: string }> } }> };
    // the worker may wait for the scheduler while the node's CPUs are taken (by another test's pods)
    const pods = await waitFor(
      "every pod of the cluster scheduled",
      async () => {
        const out = await clusterPods(false, "json");
        const list = JSON.parse(out) as Pods;
        return list.items.length > 0 && list.items.every((p) => p.spec.nodeName) ? list : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    for (const pod of pods.items) {
      expect(pod.spec.nodeName).toBe(nodeName());
      expect(pod.spec.containers[0]?.image).toBe(rayImage());
    }
  });

  it("runs KubeRay's autoscaler beside the head, reading its RayCluster from the apiserver", async () => {
    // the autoscaler container exits when it cannot read its RayCluster through the kubernetes Service
    const ready = await waitFor(
      "the head pod's autoscaler container ready",
      async () => {
        const out = await clusterPods(
          true,
          'jsonpath={.items[0].status.containerStatuses[?(@.name=="autoscaler")].ready}',
        );
        return out.trim() === "true" ? out : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(ready.trim()).toBe("true");
  });

  it("answers on the dashboard's /api/version at the head Service's name", async () => {
    const version = await waitFor(
      "the Ray dashboard",
      async () => {
        const res = await fetch(`${dashboard}/api/version`, { signal: AbortSignal.timeout(5000) });
        return res.ok ? ((await res.json()) as { ray_version: string }) : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(version.ray_version).toBe(runtimeRayVersion());
  });

  it("reads the cluster's activity from its head through the apiserver's service proxy", async () => {
    const probe = await waitFor(
      "the ActivityProbe condition",
      async () => {
        return getJsonpath<{ status: string; reason: string; message: string }>(
          "darwincluster",
          name,
          "{.status.conditions[?(@.type=='ActivityProbe')]}",
        );
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    // True: the probe read Ray's jobs and actors (a failed probe is False, ProbeFailed, with the error)
    expect(probe.status, probe.message).toBe("True");
    expect(["Idle", "Active"]).toContain(probe.reason);
  });

  it("runs a DarwinJob the operator submits through the apiserver's service proxy, with the cluster's packages", async () => {
    const job = {
      apiVersion: "darwin.dreamhorizon.org/v1alpha1",
      kind: "DarwinJob",
      metadata: { name: "answer" },
      spec: {
        cluster: name,
        // the task runs on the worker, so the package is importable there too
        entrypoint: `python -c "import ray; ray.init(); print('answer', ray.get(ray.remote(lambda: __import__('darwin_node_probe').answer()).remote()))"`,
      },
    };
    await kubectlOk(["apply", "-n", namespace, "-f", "-"], job);
    // the task runs on the worker (a head with workers has no CPUs for tasks), which may still be joining
    const done = await waitFor(
      "the DarwinJob to end",
      async () => {
        const status =
          (await getJsonpath<{ jobStatus?: string; message?: string; logTail?: string }>(
            "darwinjob",
            "answer",
            "{.status}",
          )) ?? {};
        return ["SUCCEEDED", "FAILED", "STOPPED"].includes(status.jobStatus ?? "") ? status : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    expect(done.jobStatus, done.message ?? "").toBe("SUCCEEDED");
    expect(done.logTail).toContain("answer 42");
  }, 360_000);

  it("reports PackagesFailed with pip's message when a requirement cannot be installed", async () => {
    // A head-only cluster whose one requirement is a wheel the file server does not have (pip gets a 404).
    const missing = `${wheelBase}/darwin_node_missing-1.0-py3-none-any.whl`;
    await kubectlOk(["apply", "-n", namespace, "-f", "-"], {
      ...cluster,
      metadata: { name: "broken-packages" },
      spec: { ...cluster.spec, workerGroups: [], packages: { pip: [`darwin-node-missing @ ${missing}`] } },
    });
    type Condition = { type: string; status: string; reason: string; message: string };
    const conditions = await waitFor(
      "the PackagesFailed condition",
      async () => {
        const list =
          (await getJsonpath<Condition[]>("darwincluster", "broken-packages", "{.status.conditions}")) ?? [];
        return list.some((c) => c.type === "PackagesFailed" && c.status === "True") ? list : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    const failed = conditions.find((c) => c.type === "PackagesFailed");
    // pip's own words, from the install step's termination message
    expect(failed?.message).toContain("404");
    expect(failed?.message).toContain("darwin_node_missing-1.0-py3-none-any.whl");
    const ready = conditions.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "PackagesFailed" });
    expect(ready?.message).toContain("fix spec.packages.pip");
  }, 360_000);
});

function runtimeRayVersion(): string {
  return String(sample("darwinruntime").spec.rayVersion);
}
