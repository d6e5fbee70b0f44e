/**
 * Operator scale benchmark (prints figures, asserts nothing): N DarwinClusters applied at once on KWOK
 * nodes, with the operator as its own process (cmd/operator.ts). Prints seconds until every RayCluster
 * exists and every DarwinCluster is Ready, the operator's peak RSS and CPU seconds, CPU seconds of every
 * testbed process over the same stretch (where the time goes), the operator's requests by verb, the
 * apiserver's requests by verb, and the operator's writes per cluster over the steady minutes afterwards.
 * Needs the cluster tier: DARWIN_TESTBED_SLOT=N hack/testbed up cluster; then
 *   node bench/operator-scale/run.ts [--clusters 1000] [--steady-seconds 300] [--parallel 8] [--workers 4]
 *     [--heap-snapshot DIR] [--operator-repo DIR]
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { API_VERSION } from "../../crds/src/index.ts";
import { KubeClient } from "../../operator/kube-client.ts";
import { loadTestbedEnv } from "../../test-e2e/support/testbed-env.ts";

const REPO = join(import.meta.dirname, "..", "..");
const { values: args } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    "steady-seconds": { type: "string", default: "300" },
    parallel: { type: "string", default: "8" },
    "pods-per-node": { type: "string", default: "110" },
    // The operator's reconciles at once (its `workers` config).
    workers: { type: "string", default: "4" },
    // Writes a heap snapshot of the operator into DIR once the steady stretch is over.
    "heap-snapshot": { type: "string" },
    // The checkout whose cmd/operator.ts runs (another commit's, to compare); this one by default.
    "operator-repo": { type: "string" },
    // The operator's resyncPeriodSeconds (every cached object reconciled again); its default is 600.
    "resync-seconds": { type: "string" },
    // Node's flags for the operator: those the chart, the image and the testbed give it by default
    // (charts/darwin/templates/operator.yaml); --node-flags= for Node's defaults.
    "node-flags": { type: "string", default: "--max-semi-space-size=4 --max-old-space-size=384" },
  },
});
const CLUSTERS = Number(args.clusters);
const STEADY_SECONDS = Number(args["steady-seconds"]);
const PARALLEL = Number(args.parallel);
const PODS_PER_NODE = Number(args["pods-per-node"]);
const WORKERS = Number(args.workers);
const SNAPSHOT_DIR = args["heap-snapshot"];
const OPERATOR_REPO = args["operator-repo"] ?? REPO;
const RESYNC_SECONDS = args["resync-seconds"];
const NODE_FLAGS = (args["node-flags"] ?? "").split(/\s+/).filter((flag) => flag !== "");
const env = { ...loadTestbedEnv(), ...process.env } as Record<string, string>;
const RUN = Date.now().toString(36);
const NAMESPACE = `bench-scale-${RUN}`;
const RUNTIME = `bench-scale-${RUN}`;
const HTTP_PORT = 28000 + Math.floor(Math.random() * 400);
const CLK_TCK = 100;

const client = KubeClient.load({ kubeconfig: env.KUBECONFIG, userAgent: "bench-operator-scale" });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
function processUsage(pid: number): { cpu: number; rssMiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return { cpu, rssMiB: Number(rss ?? 0) / 1024 };
  } catch {
    return undefined;
  }
}

/** The testbed's processes of this slot, by component (its pid files). */
function testbedProcesses(): Map<string, number> {
  const dir = join(env.DARWIN_RUN ?? "/tmp/darwin-testbed", "pids");
  const pids = new Map<string, number>();
  for (const file of readdirSync(dir))
    if (file.endsWith(".pid"))
      pids.set(file.slice(0, -4), Number(readFileSync(join(dir, file), "utf8").trim().split(/\s+/)[0]));
  return pids;
}

const cpuOf = (pids: Map<string, number>) =>
  new Map([...pids].map(([name, pid]) => [name, processUsage(pid)?.cpu ?? 0]));

/** Sums of a Prometheus counter by one label, from a text exposition. */
function countersBy(text: string, metric: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  const line = new RegExp(`^${metric}\\{([^}]*)\\} ([0-9.e+]+)$`, "gm");
  for (const match of text.matchAll(line)) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(match[1] ?? "")?.[1] ?? "";
    sums.set(value, (sums.get(value) ?? 0) + Number(match[2]));
  }
  return sums;
}

function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const changed = new Map<string, number>();
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) changed.set(key, delta);
  }
  return changed;
}

/** The apiserver's Prometheus text (kubectl get --raw: the client parses JSON only). */
const apiserverRequests = async () => {
  const kubectl =
    env.DARWIN_KUBECTL ??
    join(os.homedir(), ".cache", "darwin-testbed", "kubernetes-v1.36.3", "bin", "kubectl");
  const text = execFileSync(kubectl, ["--kubeconfig", env.KUBECONFIG ?? "", "get", "--raw", "/metrics"], {
    encoding: "utf8",
    maxBuffer: 256 * 2 ** 20,
  });
  return countersBy(text, "apiserver_request_total", "verb");
};

/**
 * The operator's Prometheus text. Tried three times: between two polls far apart (a list of 1,000 objects
 * on a loaded apiserver takes seconds) the server may close the kept-alive connection as it is reused.
 */
async function operatorMetrics(): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`)).text();
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(200);
    }
  }
}

/**
 * Asks the operator's /healthz once a second (the next ask waits for the answer, at most 20 s) and keeps
 * the answer times: what a liveness probe sees while the operator works. `take` summarizes and restarts.
 */
function sampleHealth(): { take(): string; stop(): void } {
  let times: number[] = [];
  let failed = 0;
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const asked = performance.now();
      const ok = await fetch(`http://127.0.0.1:${HTTP_PORT}/healthz`, { signal: AbortSignal.timeout(20_000) })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) times.push(performance.now() - asked);
      else failed++;
      await sleep(1_000);
    }
  })();
  return {
    take() {
      const sorted = times.sort((a, b) => a - b);
      const at = (q: number) =>
        (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
      const summary = `${sorted.length} answers: median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms; ${failed} failed or over 20 s`;
      times = [];
      failed = 0;
      return summary;
    },
    stop() {
      stopped = true;
    },
  };
}

async function operatorRequests(): Promise<Map<string, number>> {
  return countersBy(await operatorMetrics(), "rest_client_requests_total", "method");
}

/** The operator's V8 heap in use (MiB), from its Node.js process metrics. */
async function operatorHeapMiB(): Promise<number> {
  const text = await operatorMetrics();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? 0) / 2 ** 20;
}

/** A flag's value on a process's command line (e.g. KubeRay's --reconcile-concurrency). */
function processFlag(pid: number | undefined, flag: string): string | undefined {
  if (pid === undefined) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const arg = argv.find((a) => a.startsWith(`${flag}=`));
    return arg?.slice(flag.length + 1);
  } catch {
    return undefined;
  }
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

async function list(
  path: string,
): Promise<{ metadata: { name: string; resourceVersion: string }; status?: unknown }[]> {
  const answer = (await client.request({ method: "GET", path })) as { items: [] };
  return answer.items;
}

function node(name: string) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "darwin.dreamhorizon.org/capacity": "on-demand",
        "darwin.dreamhorizon.org/bench": RUN,
      },
    },
    status: {
      allocatable: { cpu: "256", memory: "1024Gi", pods: String(PODS_PER_NODE) },
      capacity: { cpu: "256", memory: "1024Gi", pods: String(PODS_PER_NODE) },
      addresses: [
        { type: "InternalIP", address: "127.0.0.1" },
        { type: "Hostname", address: name },
      ],
    },
  };
}

const apply = (path: string, body: unknown) =>
  client.request({
    method: "PATCH",
    path,
    query: { fieldManager: "bench", force: true },
    contentType: "application/apply-patch+yaml",
    body,
  });

function clusterObject(i: number) {
  return {
    apiVersion: API_VERSION,
    kind: "DarwinCluster",
    metadata: { name: `c${String(i).padStart(4, "0")}`, namespace: NAMESPACE },
    spec: {
      runtime: RUNTIME,
      owner: "bench@example.com",
      inactiveTimeMinutes: 0,
      head: { cores: 1, memory: "2Gi" },
      jupyter: { enabled: false },
    },
  };
}

async function main() {
  const nodes = Math.ceil((CLUSTERS * 1.1) / PODS_PER_NODE);
  console.log(`# operator-scale: ${CLUSTERS} DarwinClusters, ${nodes} KWOK nodes, namespace ${NAMESPACE}`);
  for (let i = 0; i < nodes; i++) await apply(`/api/v1/nodes/bench-${RUN}-${i}`, node(`bench-${RUN}-${i}`));
  await apply(`/api/v1/namespaces/${NAMESPACE}`, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: NAMESPACE },
  });
  await apply(`/apis/${API_VERSION}/darwinruntimes/${RUNTIME}`, {
    apiVersion: API_VERSION,
    kind: "DarwinRuntime",
    metadata: { name: RUNTIME },
    spec: {
      displayName: RUNTIME,
      rayVersion: "2.37.0",
      pythonVersion: "3.10",
      image: "rayproject/ray:2.37.0-py310",
    },
  });

  const configFile = join(os.tmpdir(), `bench-operator-${RUN}.yaml`);
  writeFileSync(configFile, `http: { host: 127.0.0.1, port: ${HTTP_PORT} }\nwebhook: { enabled: false }\n`);
  const operator: ChildProcess = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ...(SNAPSHOT_DIR ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${SNAPSHOT_DIR}`] : []),
      join(OPERATOR_REPO, "cmd", "operator.ts"),
      "--config",
      configFile,
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: env.KUBECONFIG,
        DARWIN_NAMESPACES: NAMESPACE,
        DARWIN_LEADER_ELECTION: "false",
        DARWIN_LOG_LEVEL: "warn",
        DARWIN_WORKERS: String(WORKERS),
        ...(RESYNC_SECONDS && { DARWIN_RESYNC_PERIOD_SECONDS: RESYNC_SECONDS }),
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const pid = operator.pid ?? 0;
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${HTTP_PORT}/readyz`).catch(() => undefined);
      if (ready?.ok) break;
      await sleep(250);
    }
    // At rest: caches synced, no DarwinCluster yet; what the modules it loaded cost.
    await sleep(5_000);
    const rssIdle = processUsage(pid)?.rssMiB ?? 0;
    const processes = testbedProcesses();
    const kuberayConcurrency =
      processFlag(processes.get("kuberay"), "--reconcile-concurrency") ?? "1 (KubeRay's default)";
    const loadBefore = loadAverage();
    const cpuBefore = cpuOf(processes);
    const operatorBefore = processUsage(pid)?.cpu ?? 0;
    const apiBefore = await apiserverRequests();
    const opBefore = await operatorRequests();

    const health = sampleHealth();
    const start = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < CLUSTERS) {
          const i = next++;
          const object = clusterObject(i);
          await apply(
            `/apis/${API_VERSION}/namespaces/${NAMESPACE}/darwinclusters/${object.metadata.name}`,
            object,
          );
        }
      }),
    );
    const applied = (Date.now() - start) / 1000;
    let peakRss = 0;
    let peakHeap = 0;
    let allRayClusters: number | undefined;
    let allReady: number | undefined;
    let lastLog = 0;
    while (allReady === undefined) {
      peakRss = Math.max(peakRss, processUsage(pid)?.rssMiB ?? 0);
      peakHeap = Math.max(peakHeap, await operatorHeapMiB());
      const rayClusters = (await list(`/apis/ray.io/v1/namespaces/${NAMESPACE}/rayclusters`)).length;
      if (allRayClusters === undefined && rayClusters >= CLUSTERS)
        allRayClusters = (Date.now() - start) / 1000;
      const dcs = await list(`/apis/${API_VERSION}/namespaces/${NAMESPACE}/darwinclusters`);
      const ready = dcs.filter((d) => (d.status as { phase?: string } | undefined)?.phase === "Ready").length;
      if (ready >= CLUSTERS) allReady = (Date.now() - start) / 1000;
      if (Date.now() - lastLog > 15_000) {
        console.log(
          `  t=${((Date.now() - start) / 1000).toFixed(0)}s rayclusters=${rayClusters} ready=${ready}`,
        );
        lastLog = Date.now();
      }
      if (Date.now() - start > 1_800_000) break;
      await sleep(1_000);
    }
    const healthRamp = health.take();
    const rampCpu = diff(cpuOf(processes), cpuBefore);
    const operatorCpu = (processUsage(pid)?.cpu ?? 0) - operatorBefore;
    const rssAfter = processUsage(pid)?.rssMiB ?? 0;
    const heapAfter = await operatorHeapMiB();
    const loadAtReady = loadAverage();
    const apiRamp = diff(await apiserverRequests(), apiBefore);
    const opRamp = diff(await operatorRequests(), opBefore);

    // Steady state: nothing changes; every operator write and every DarwinCluster resourceVersion move counts.
    const versions = new Map(
      (await list(`/apis/${API_VERSION}/namespaces/${NAMESPACE}/darwinclusters`)).map((d) => [
        d.metadata.name,
        d.metadata.resourceVersion,
      ]),
    );
    const opSteadyBefore = await operatorRequests();
    const steadyStart = Date.now();
    while (Date.now() - steadyStart < STEADY_SECONDS * 1000) {
      peakRss = Math.max(peakRss, processUsage(pid)?.rssMiB ?? 0);
      await sleep(5_000);
    }
    const healthSteady = health.take();
    health.stop();
    const rssSteady = processUsage(pid)?.rssMiB ?? 0;
    const heapSteady = await operatorHeapMiB();
    const opSteady = diff(await operatorRequests(), opSteadyBefore);
    const moved = (await list(`/apis/${API_VERSION}/namespaces/${NAMESPACE}/darwinclusters`)).filter(
      (d) => versions.get(d.metadata.name) !== d.metadata.resourceVersion,
    ).length;
    const steadyWrites = ["POST", "PUT", "PATCH", "DELETE"].reduce(
      (sum, m) => sum + (opSteady.get(m) ?? 0),
      0,
    );

    const fmt = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
    console.log(`
machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB (shared testbed)
load average (1, 5, 15 min): ${loadBefore} before the applies, ${loadAtReady} when all were Ready, ${loadAverage()} after the steady stretch
operator workers ${WORKERS}, Node flags ${NODE_FLAGS.join(" ") || "(none)"}, KubeRay --reconcile-concurrency ${kuberayConcurrency}

| figure | value |
|---|---|
| DarwinClusters | ${CLUSTERS} (${nodes} KWOK nodes, ${PARALLEL} parallel server-side applies, done after ${applied.toFixed(1)} s) |
| every RayCluster exists | ${allRayClusters?.toFixed(1) ?? "not reached"} s |
| every DarwinCluster Ready | ${allReady?.toFixed(1) ?? "not reached in 30 min"} s |
| operator RSS at rest before the applies | ${rssIdle.toFixed(0)} MiB |
| operator peak RSS | ${peakRss.toFixed(0)} MiB (${rssAfter.toFixed(0)} MiB when all Ready, ${rssSteady.toFixed(0)} MiB after the steady stretch) |
| operator V8 heap used | peak ${peakHeap.toFixed(0)} MiB, ${heapAfter.toFixed(0)} MiB when all Ready, ${heapSteady.toFixed(0)} MiB after the steady stretch |
| operator CPU until all Ready | ${operatorCpu.toFixed(1)} s |
| operator requests until Ready | ${fmt(opRamp)} |
| apiserver requests until Ready (all clients) | ${fmt(apiRamp)} |
| CPU seconds until Ready, by process | ${fmt(new Map([...rampCpu].map(([k, v]) => [k, Number(v.toFixed(1))])))}, operator ${operatorCpu.toFixed(1)} |
| steady ${STEADY_SECONDS} s: operator writes | ${steadyWrites} (${(steadyWrites / CLUSTERS).toFixed(3)} per cluster); requests ${fmt(opSteady) || "none"} |
| steady ${STEADY_SECONDS} s: DarwinClusters whose resourceVersion moved | ${moved} |
| operator /healthz answer until all Ready | ${healthRamp} |
| operator /healthz answer in the steady stretch (resync every ${RESYNC_SECONDS ?? 600} s) | ${healthSteady} |
`);
    if (SNAPSHOT_DIR) {
      // Node writes Heap.<date>.<pid>...heapsnapshot into the diagnostic directory; wait until it is complete.
      const before = new Set(readdirSync(SNAPSHOT_DIR));
      operator.kill("SIGUSR2");
      let written: string | undefined;
      for (let i = 0; i < 240 && !written; i++) {
        await sleep(1_000);
        const file = readdirSync(SNAPSHOT_DIR).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
        if (file && (await fetch(`http://127.0.0.1:${HTTP_PORT}/healthz`).catch(() => undefined))?.ok)
          written = file;
      }
      console.log(`heap snapshot: ${written ? join(SNAPSHOT_DIR, written) : "not written in 4 min"}`);
    }
  } finally {
    // The clusters first: the garbage collector then deletes their children at once, while the namespace
    // controller retries the namespace's pods with a growing delay before it gets to custom resources. The
    // apiserver deletes them one by one and ends the request after its own timeout (a few hundred on a
    // loaded machine), so it is asked again until it answers.
    for (let attempt = 1; attempt <= 10; attempt++) {
      const done = await client
        .request({
          method: "DELETE",
          path: `/apis/${API_VERSION}/namespaces/${NAMESPACE}/darwinclusters`,
          timeoutMs: 120_000,
        })
        .then(() => true)
        .catch(() => false);
      if (done) break;
    }
    await client
      .request({ method: "DELETE", path: `/api/v1/namespaces/${NAMESPACE}` })
      .catch((error) => console.error(`namespace ${NAMESPACE} not deleted: ${error}`));
    // The clusters' CatalogAssets carry the catalog controller's finalizer, which only the operator
    // removes: it runs until they are gone (at most 10 minutes), or the namespace would never go.
    const deadline = Date.now() + 600_000;
    while (Date.now() < deadline) {
      const left = await list(`/apis/${API_VERSION}/namespaces/${NAMESPACE}/catalogassets`).catch(() => []);
      if (left.length === 0) break;
      await sleep(5_000);
    }
    operator.kill("SIGTERM");
    await client
      .request({ method: "DELETE", path: `/apis/${API_VERSION}/darwinruntimes/${RUNTIME}` })
      .catch(() => {});
    const nodeCount = Math.ceil((CLUSTERS * 1.1) / PODS_PER_NODE);
    for (let i = 0; i < nodeCount; i++)
      await client.request({ method: "DELETE", path: `/api/v1/nodes/bench-${RUN}-${i}` }).catch(() => {});
    client.close();
  }
}

await main();
