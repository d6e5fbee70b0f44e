// @testbed node
/**
 * The chart installing Darwin's operator as real pods: `helm install` of charts/darwin with this checkout's
 * darwin image (by its content tag, which no other checkout's push changes) runs the two operator replicas
 * on darwin-node-0 under the chart's restricted securityContext; one leads (the Lease names it); the
 * apiserver calls the webhook through its Service with the operator's own CA; a DarwinCluster gets its
 * RayCluster and status; `helm upgrade` rolls out new pods that take over; killing the leader's pod hands
 * the Lease to the other replica, which reconciles, and so does SIGKILLing the leader's process (after the
 * unreleased lease runs out); `helm uninstall` keeps the CRDs and users' objects.
 *
 * The release is a namespaced install (config.namespaces): on the shared testbed it acts only on this
 * file's object namespace, whose pods go to KWOK (no Ray runs on the node), and its webhook configuration
 * judges nothing elsewhere. The figures (install to Ready, failover, memory) are printed, not asserted.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CATALOG_ASSETS } from "../../controllers/catalog-asset/reconciler.ts";
import { DARWIN_CLUSTERS } from "../../controllers/darwin-cluster/reconciler.ts";
import { rayClusterName } from "../../controllers/darwin-cluster/render/ray-cluster.ts";
import { findCondition } from "../../operator/conditions.ts";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk, runTestbedTool } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";
import { NODE_KEY, nodeName } from "./real-node.ts";

const REPO = join(import.meta.dirname, "..", "..");
const CHART = join(REPO, "charts", "darwin");
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
/** The release's name does not say darwin: its cluster-scoped objects are `helm-node-<run>-darwin-...`. */
const RELEASE = `helm-node-${RUN}`;
const FULLNAME = `${RELEASE}-darwin`;
const RUNTIME = `helm-node-ray2.37.0-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-HelmNode-${RUN}`;
/**
 * Pods start on a 2-core node shared with other tests' Ray clusters and image builds (load averages of 20
 * have been seen): pulls, starts and rollouts take their time.
 */
const SLOW = { timeoutMs: 480_000, intervalMs: 500 };
const TEST_TIMEOUT = 600_000;

// The users' objects outlive the release on purpose, finalizers and all (the CatalogAssets a DarwinCluster
// registers keep theirs): nobody runs to remove them, so teardown does.
const tb = useTestbed({ namespace: "helm-node", cleanup: [DARWIN_CLUSTERS, CATALOG_ASSETS] });
/** Where the release runs (its pods on the real node by values). */
let release = "";
/** Where the users' objects are: the only namespace the install acts on; its pods go to KWOK. */
let objects = "";
let image = { repository: "", tag: "" };

const helm = (args: readonly string[], input?: object) => runTestbedTool("DARWIN_HELM", args, input, 300_000);

async function helmOk(args: readonly string[], input?: object): Promise<string> {
  const run = await helm(args, input);
  if (run.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${run.code}): ${run.stderr}`);
  return run.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: each assertion reads its own kind's fields
type Json = any;
const getJson = async (...args: string[]): Promise<Json> =>
  JSON.parse(await kubectlOk(["get", ...args, "-o", "json"]));

/** The values a namespaced install on the shared testbed's real node takes. */
function values(): object {
  const off = { enabled: false };
  return {
    image: { repository: image.repository, tag: image.tag, pullPolicy: "IfNotPresent" },
    operator: {
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      nodeSelector: { [NODE_KEY]: "real" },
      tolerations: [{ key: NODE_KEY, operator: "Equal", value: "real", effect: "NoSchedule" }],
    },
    config: { namespaces: [objects] },
    // The data plane needs the stores; this file is about the operator.
    dataplane: {
      featureServer: off,
      materializer: off,
      chronos: off,
      chronosProcessor: off,
      catalog: off,
    },
    // The default runtimes are the cluster's, not this release's.
    defaults: { runtimes: false, serveEnvironment: false },
  };
}

interface OperatorPod {
  name: string;
  ready: boolean;
  deleting: boolean;
  hash: string;
}

async function operatorPods(): Promise<OperatorPod[]> {
  const list = await getJson("pods", "-n", release, "-l", "app.kubernetes.io/name=darwin-operator");
  return (list.items as Json[]).map((p) => ({
    name: p.metadata.name,
    ready: (p.status.containerStatuses ?? []).every((s: Json) => s.ready) && p.status.phase === "Running",
    deleting: Boolean(p.metadata.deletionTimestamp),
    hash: p.metadata.labels["pod-template-hash"],
  }));
}

/** The pod named by the Lease's holder (identity `<hostname>_<uuid>`, the hostname being the pod's name). */
async function leaseHolder(): Promise<string> {
  const lease = await getJson("lease", "darwin-operator", "-n", release);
  return String(lease.spec.holderIdentity ?? "").split("_")[0] ?? "";
}

async function waitForHolder(among: readonly string[]): Promise<string> {
  return waitFor(
    `the Lease held by one of ${among.join(", ")}`,
    async () => {
      const holder = await leaseHolder().catch(() => "");
      return among.includes(holder) ? holder : undefined;
    },
    SLOW,
  );
}

function darwinCluster(name: string, namespace: string, runtime = RUNTIME_DISPLAY): object {
  return {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name, namespace },
    spec: {
      runtime,
      owner: "ana@example.com",
      tags: ["helm"],
      head: { cores: 1, memory: "2Gi" },
      workerGroups: [{ name: "spot", cores: 1, memory: 2, minPods: 0, maxPods: 1, capacity: "spot" }],
    },
  };
}

/** Waits until the operator has reconciled the DarwinCluster's current generation; its status. */
async function waitReconciled(name: string): Promise<Json> {
  return waitFor(
    `DarwinCluster ${objects}/${name} reconciled at its generation`,
    async () => {
      const cluster = await getJson("darwincluster", name, "-n", objects);
      return cluster.status?.observedGeneration === cluster.metadata.generation ? cluster.status : undefined;
    },
    SLOW,
  );
}

/**
 * Tags the DarwinCluster `housing` (a spec change) and waits until the operator has reconciled it. Right
 * after a replica's pod is deleted, the apiserver can still reach for it: through the webhook Service until
 * kube-proxy drops its endpoint ("connection refused"), or on a connection it kept alive to it ("broken
 * pipe", "connection reset"), and a force-deleted pod's process runs on for a moment with its token
 * already revoked, so its webhook cannot read runtimes and answers 503 "retry shortly". Such a patch is
 * retried, as a client would; any other refusal fails the test.
 */
async function retagAndWait(tags: string[]): Promise<Json> {
  const patch = [
    "patch",
    "darwincluster",
    "housing",
    "-n",
    objects,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { tags } }),
  ];
  const result = await waitFor(
    "the webhook to admit the change",
    async () => {
      const attempt = await kubectl(patch);
      const transient =
        attempt.stderr.includes("failed calling webhook") ||
        (attempt.stderr.includes("(ServiceUnavailable)") && attempt.stderr.includes("retry shortly"));
      return attempt.code !== 0 && transient ? undefined : attempt;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  if (result.code !== 0)
    throw new Error(`kubectl ${patch.join(" ")} failed (${result.code}): ${result.stderr}`);
  return waitReconciled("housing");
}

/**
 * Sends the tag change of `housing` through admission (a server-side dry run: validated, not stored) one
 * after another until stopped; how many were sent, and the errors of those refused.
 */
function admitThroughout(): { stop(): Promise<{ sent: number; refused: string[] }> } {
  let running = true;
  let sent = 0;
  const refused: string[] = [];
  const patch = ["patch", "darwincluster", "housing", "-n", objects, "--type=merge", "--dry-run=server"];
  const loop = (async () => {
    while (running) {
      const result = await kubectl([
        ...patch,
        "-p",
        JSON.stringify({ spec: { tags: ["helm", `try-${sent}`] } }),
      ]);
      sent += 1;
      if (result.code !== 0) refused.push(result.stderr.trim());
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { sent, refused };
    },
  };
}

async function processStatus(pod: string): Promise<string> {
  return kubectlOk(["exec", "-n", release, pod, "--", "cat", "/proc/1/status"]);
}

beforeAll(async () => {
  image = (() => {
    const ref = execFileSync(join(REPO, "hack", "testbed"), ["image", "darwin"], {
      cwd: REPO,
      encoding: "utf8",
    }).trim();
    const colon = ref.lastIndexOf(":");
    return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  })();
  objects = tb.namespace;
  release = await tb.createNamespace("helm-node-release");
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "DarwinRuntime",
    metadata: { name: RUNTIME },
    spec: {
      displayName: RUNTIME_DISPLAY,
      rayVersion: "2.37.0",
      pythonVersion: "3.10",
      image: "rayproject/ray:2.37.0-py310",
    },
  });
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME, "--ignore-not-found"]));
  // When a test failed before uninstalling, the release goes now (its Deployment, RBAC, webhook
  // configuration); the users' objects go with the namespaces.
  tb.defer(() => helm(["uninstall", RELEASE, "-n", release, "--wait"]));
}, 600_000);

describe("charts/darwin installs the operator as pods on the real node", () => {
  let firstPods: string[] = [];

  it(
    "runs both replicas on darwin-node-0, Ready under the restricted securityContext",
    async () => {
      const started = Date.now();
      await helmOk(["install", RELEASE, CHART, "-n", release, "-f", "-"], values());
      const ready = await waitFor(
        "both operator replicas Ready",
        async () => {
          const pods = await operatorPods();
          return pods.length === 2 && pods.every((p) => p.ready) ? pods : undefined;
        },
        SLOW,
      );
      console.info(
        `helm install to both operator pods Ready: ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      const pulled = await getJson("events", "-n", release, "--field-selector", "reason=Pulled");
      for (const event of pulled.items as Json[])
        console.info(`${event.involvedObject.name}: ${event.message}`);
      firstPods = ready.map((p) => p.name);

      for (const name of firstPods) {
        const pod = await getJson("pod", name, "-n", release);
        expect(pod.spec.nodeName).toBe(nodeName());
        expect(pod.spec.containers[0].image).toBe(`${image.repository}:${image.tag}`);
        expect(pod.spec.containers[0].securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
      }
      // What the container really runs as: uid 65532, no capabilities, no new privileges, seccomp filtering;
      // the root filesystem refuses writes, /tmp takes them.
      const status = await processStatus(firstPods[0] ?? "");
      expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status).toMatch(/^Seccomp:\s+2$/m);
      const write = await kubectl([
        "exec",
        "-n",
        release,
        firstPods[0] ?? "",
        "--",
        "touch",
        "/opt/darwin/x",
      ]);
      expect(write.stderr).toContain("Read-only file system");
      await kubectlOk(["exec", "-n", release, firstPods[0] ?? "", "--", "touch", "/tmp/x"]);
      for (const name of firstPods) {
        const rss = /^VmRSS:\s+(\d+) kB$/m.exec(await processStatus(name))?.[1];
        console.info(`operator pod ${name}: RSS ${(Number(rss) / 1024).toFixed(0)} MiB`);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    "has one replica leading: the Lease names it",
    async () => {
      const holder = await waitForHolder(firstPods);
      const lease = await getJson("lease", "darwin-operator", "-n", release);
      expect(lease.spec.leaseDurationSeconds).toBe(15);
      const log = await kubectlOk(["logs", "-n", release, holder]);
      expect(log).toContain("Acquired leadership");
      const other = firstPods.find((p) => p !== holder) ?? "";
      expect(await kubectlOk(["logs", "-n", release, other])).not.toContain("Acquired leadership");
    },
    TEST_TIMEOUT,
  );

  it(
    "has the apiserver call the webhook through its Service, trusting the operator's CA, for its namespaces only",
    async () => {
      const configuration = await getJson("validatingwebhookconfiguration", `${FULLNAME}-validating-webhook`);
      const entries = configuration.webhooks as Json[];
      // Namespaced kinds only, each limited to the install's namespace; the CA injected by the operator.
      expect(entries.map((w) => w.name)).not.toContain("darwinruntimes.validate.darwin.dreamhorizon.org");
      for (const entry of entries) {
        expect(entry.clientConfig.service).toMatchObject({
          namespace: release,
          name: "darwin-webhook",
          port: 443,
        });
        expect(entry.namespaceSelector).toEqual({
          matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [objects] }],
        });
      }
      await waitFor(
        "the operator's CA in the webhook configuration",
        async () => {
          const c = await getJson("validatingwebhookconfiguration", `${FULLNAME}-validating-webhook`);
          return (c.webhooks as Json[]).every((w) => Boolean(w.clientConfig.caBundle));
        },
        SLOW,
      );
      // A runtime that does not exist: the CRD schema cannot know, the webhook looks it up.
      const bad = darwinCluster("no-runtime", objects, "Ray9-Nowhere");
      const refused = await kubectl(["create", "-f", "-"], bad);
      expect(refused.code).not.toBe(0);
      // The webhook's answer: the field, and the runtimes there are (this file's among them), which only a
      // lookup of the cluster's DarwinRuntimes knows.
      expect(refused.stderr).toContain('spec.runtime: DarwinRuntime "Ray9-Nowhere" does not exist');
      expect(refused.stderr).toContain(RUNTIME_DISPLAY);
      // Through the Service: one of the pods counted the call.
      let calls = 0;
      for (const pod of firstPods) {
        const metrics = await kubectlOk([
          "get",
          "--raw",
          `/api/v1/namespaces/${release}/pods/${pod}:8080/proxy/metrics`,
        ]);
        for (const line of metrics.split("\n"))
          if (
            line.startsWith("controller_runtime_webhook_requests_total{") &&
            line.includes("darwinclusters")
          )
            calls += Number(line.split(" ").pop());
      }
      expect(calls).toBeGreaterThan(0);
      // Outside the install's namespaces nothing calls it.
      const elsewhere = await kubectl(["create", "--dry-run=server", "-f", "-"], {
        ...bad,
        metadata: { name: "no-runtime", namespace: release },
      });
      expect(elsewhere.stderr).toBe("");
      expect(elsewhere.code).toBe(0);
    },
    TEST_TIMEOUT,
  );

  it(
    "reconciles a DarwinCluster in its namespace into a RayCluster and status, and nothing elsewhere",
    async () => {
      // Created first, in a namespace the install does not watch: it must stay untouched.
      await kubectlOk(["create", "-f", "-"], darwinCluster("elsewhere", release));
      await kubectlOk(["create", "-f", "-"], darwinCluster("housing", objects));
      const status = await waitReconciled("housing");
      const rayCluster = await getJson("raycluster", rayClusterName("housing"), "-n", objects);
      expect(rayCluster.metadata.ownerReferences[0]).toMatchObject({
        kind: "DarwinCluster",
        name: "housing",
      });
      expect(status.estimatedCostPerHour).toBeDefined();
      expect(findCondition(status.conditions, "Ready")).toBeDefined();
      const untouched = await getJson("darwincluster", "elsewhere", "-n", release);
      expect(untouched.status).toBeUndefined();
      expect(untouched.metadata.finalizers).toBeUndefined();
    },
    TEST_TIMEOUT,
  );

  it(
    "rolls out new pods on helm upgrade with a changed value, and they take over, admitting throughout",
    async () => {
      const before = await getJson("deployment", "darwin-operator", "-n", release);
      // A user's change, sent through admission (a server-side dry run) over and over during the rollout:
      // the old pods keep answering after SIGTERM (config.shutdownDelaySeconds) until the webhook Service no
      // longer routes to them, so none is refused for want of a webhook.
      const admission = admitThroughout();
      await helmOk([
        "upgrade",
        RELEASE,
        CHART,
        "-n",
        release,
        "--reuse-values",
        "--set",
        "config.logLevel=debug",
      ]);
      const config = await getJson("configmap", "darwin-operator-config", "-n", release);
      expect(config.data["operator.yaml"]).toContain("logLevel: debug");
      const rolled = await waitFor(
        "two new operator pods Ready, the old ones gone",
        async () => {
          const pods = await operatorPods();
          const fresh = pods.filter((p) => !firstPods.includes(p.name));
          return pods.length === 2 && fresh.length === 2 && fresh.every((p) => p.ready) ? fresh : undefined;
        },
        SLOW,
      );
      const after = await getJson("deployment", "darwin-operator", "-n", release);
      expect(after.spec.template.metadata.annotations["checksum/config"]).not.toBe(
        before.spec.template.metadata.annotations["checksum/config"],
      );
      firstPods = rolled.map((p) => p.name);
      const { sent, refused } = await admission.stop();
      expect(sent).toBeGreaterThan(10);
      expect(refused).toEqual([]);
      const holder = await waitForHolder(firstPods);
      // The new leader reconciles a change, and logs at the new level.
      await retagAndWait(["helm", "upgraded"]);
      expect(await kubectlOk(["logs", "-n", release, holder])).toContain('"level":20');
    },
    TEST_TIMEOUT,
  );

  it(
    "hands the Lease to the other replica when the leader's pod is killed, which then reconciles",
    async () => {
      const leader = await waitForHolder(firstPods);
      const survivor = firstPods.find((p) => p !== leader) ?? "";
      const killed = Date.now();
      await kubectlOk(["delete", "pod", leader, "-n", release, "--grace-period=0", "--force"]);
      const holder = await waitForHolder([survivor]);
      const tookOver = Date.now();
      const status = await retagAndWait(["helm", "failover"]);
      const reconciled = Date.now();
      expect(holder).toBe(survivor);
      expect(status.observedGeneration).toBe(3);
      expect(await kubectlOk(["logs", "-n", release, survivor])).toContain("Took over the lease");
      console.info(
        `leader killed -> new holder ${((tookOver - killed) / 1000).toFixed(1)} s -> change reconciled ${((reconciled - tookOver) / 1000).toFixed(1)} s`,
      );
    },
    TEST_TIMEOUT,
  );

  it(
    "moves the Lease when the leader's process is killed outright, once the unreleased lease runs out",
    async () => {
      const lease = await getJson("lease", "darwin-operator", "-n", release);
      const identity: string = lease.spec.holderIdentity;
      const pod = await getJson("pod", identity.split("_")[0] ?? "", "-n", release);
      const container = String(pod.status.containerStatuses[0].containerID).replace(/^containerd:\/\//, "");
      // SIGKILL through the node's CRI: no SIGTERM, so no release of the Lease (as in a crash or an OOM kill).
      const killed = Date.now();
      execFileSync(requireEnv("DARWIN_CRICTL"), [
        "--runtime-endpoint",
        `unix://${requireEnv("DARWIN_CONTAINERD_SOCK")}`,
        "stop",
        "--timeout",
        "0",
        container,
      ]);
      const holder = await waitFor(
        "another identity holding the Lease",
        async () => {
          const current = (await getJson("lease", "darwin-operator", "-n", release)).spec.holderIdentity;
          return current && current !== identity ? String(current) : undefined;
        },
        SLOW,
      );
      const tookOver = Date.now();
      const status = await retagAndWait(["helm", "crash"]);
      const reconciled = Date.now();
      expect(status.observedGeneration).toBe(4);
      // It took the Lease from the dead holder, which had not released it.
      const log = await kubectlOk(["logs", "-n", release, holder.split("_")[0] ?? ""]);
      expect(log).toContain(`"previousHolder":"${identity}"`);
      console.info(
        `leader SIGKILLed -> new holder ${((tookOver - killed) / 1000).toFixed(1)} s (lease ${lease.spec.leaseDurationSeconds} s) -> change reconciled ${((reconciled - tookOver) / 1000).toFixed(1)} s`,
      );
    },
    TEST_TIMEOUT,
  );

  it(
    "keeps the CRDs and users' objects on helm uninstall",
    async () => {
      await helmOk(["uninstall", RELEASE, "-n", release, "--wait"]);
      expect((await kubectl(["get", "deployment", "darwin-operator", "-n", release])).code).not.toBe(0);
      expect(
        (await kubectl(["get", "validatingwebhookconfiguration", `${FULLNAME}-validating-webhook`])).code,
      ).not.toBe(0);
      expect((await kubectl(["get", "clusterrole", `${FULLNAME}-operator`])).code).not.toBe(0);
      await getJson("crd", "darwinclusters.darwin.dreamhorizon.org");
      const kept = await getJson("darwincluster", "housing", "-n", objects);
      expect(kept.spec.tags).toEqual(["helm", "crash"]);
      await getJson("raycluster", rayClusterName("housing"), "-n", objects);
    },
    TEST_TIMEOUT,
  );
});
