// @testbed control
/**
 * The real API server calls the webhook over HTTPS (clientConfig.url https://127.0.0.1:<port>, caBundle from
 * our own CA). The configuration only matches objects labelled with this run's id, so other tests sharing
 * the API server never reach it.
 */
import { connect } from "node:tls";
import { type ApiException, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP, VERSION } from "../crds/src/index.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { freePort } from "../test-e2e/support/free-port.ts";
import { kubectl, kubectlOk } from "../test-e2e/support/kubectl.ts";
import { requireEnv } from "../test-e2e/support/testbed-env.ts";
import { deleteWebhookConfiguration } from "./kube.ts";
import { startWebhookServer, type WebhookServer } from "./start.ts";

const RUN = `wh-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
const LABEL = "darwin.dreamhorizon.org/webhook-test";
const CONFIGURATION = `darwin-webhook-test-${RUN}`;
const CPU_RUNTIME = `CPU-${RUN}`;
const GPU_RUNTIME = `GPU-${RUN}`;
/** Short enough that the serving certificate rotates (at 2/3) during the run. */
const SERVING_LIFETIME_MS = 24_000;

const labels = { [LABEL]: RUN };
const kubeConfig = new KubeConfig();
let client: KubeClient;
/** The test's namespace (labelled for the configuration's namespaceSelector). */
let namespace = "";
let port = 0;
let webhook: WebhookServer | undefined;
/** Serial numbers of the certificates the API server's TLS connections were made with. */
const handshakes: string[] = [];

const cluster = (
  name: string,
  spec: Record<string, unknown>,
  extraLabels: Record<string, string> = labels,
) => ({
  apiVersion: API_VERSION,
  kind: "DarwinCluster",
  metadata: { name, namespace, labels: extraLabels },
  spec: {
    runtime: CPU_RUNTIME,
    owner: "user@example.com",
    head: { cores: 1, memory: "2Gi" },
    workerGroups: [{ name: "default", cores: 1, memory: 2, minPods: 0, maxPods: 2 }],
    ...spec,
  },
});

const runtime = (displayName: string, gpu: boolean) => ({
  apiVersion: API_VERSION,
  kind: "DarwinRuntime",
  metadata: { name: displayName.toLowerCase(), labels },
  spec: {
    displayName,
    rayVersion: "2.37.0",
    pythonVersion: "3.10",
    image: "rayproject/ray:2.37.0-py310",
    gpu,
  },
});

/**
 * Starts the webhook with self-managed certificates. `apply` renders and applies the whole configuration;
 * `inject-ca` only writes the caBundle into the existing one, as with a configuration installed by Helm.
 */
async function start(manage: "apply" | "inject-ca" = "apply"): Promise<WebhookServer> {
  const server = await startWebhookServer({
    client,
    port,
    host: "127.0.0.1",
    logger: pino({ level: process.env.DARWIN_TEST_LOG ?? "silent" }),
    certificates: {
      mode: "self-managed",
      namespace,
      serviceName: "darwin-webhook",
      ipAddresses: ["127.0.0.1"],
      servingLifetimeMs: SERVING_LIFETIME_MS,
    },
    configuration:
      manage === "inject-ca"
        ? { manage, name: CONFIGURATION }
        : {
            manage,
            options: {
              name: CONFIGURATION,
              target: { url: `https://127.0.0.1:${port}` },
              namespaceSelector: { matchLabels: labels },
              objectSelector: { matchLabels: labels },
            },
          },
  });
  server.server.on("secureConnection", (socket) => {
    const serial = socket.getCertificate();
    if (serial && "serialNumber" in serial) handshakes.push(serial.serialNumber);
  });
  return server;
}

/** What the webhook's TLS endpoint presents right now. */
async function servedSerial(ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

async function retrying(action: () => Promise<unknown>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await action();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

const create = (object: object) => kubectl(["create", "-f", "-"], object);

/** Waits until the API server sends requests to the webhook (configuration changes take a moment to load). */
async function untilWebhookAnswers(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      cluster("probe", { runtime: "no-such-runtime" }),
    );
    if (result.stderr.includes('DarwinRuntime "no-such-runtime" does not exist')) return;
    if (Date.now() > deadline) throw new Error(`webhook never answered: ${result.stderr}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("admission webhook against the testbed API server", async () => {
  const tb = useTestbed({ namespace: "wh", labels });

  beforeAll(async () => {
    kubeConfig.loadFromFile(requireEnv("KUBECONFIG"));
    client = tb.client;
    namespace = tb.namespace;
    // The configuration affects the whole API server: retried through an API server restart by another test.
    tb.defer(() =>
      retrying(() =>
        kubectlOk([
          "delete",
          "darwinruntimes",
          CPU_RUNTIME.toLowerCase(),
          GPU_RUNTIME.toLowerCase(),
          "--ignore-not-found",
          "--wait=false",
        ]),
      ),
    );
    tb.defer(async () => {
      await webhook?.close();
      await retrying(() => deleteWebhookConfiguration(client, CONFIGURATION));
    });
    await kubectlOk(["create", "-f", "-"], runtime(CPU_RUNTIME, false));
    await kubectlOk(["create", "-f", "-"], runtime(GPU_RUNTIME, true));
    port = await freePort();
    webhook = await start();
    await untilWebhookAnswers();
  });

  it("denies a spec that passes the CRD schema but breaks webhook rules, with all its field errors in one message", async () => {
    const result = await create(
      cluster("invalid", {
        runtime: "Ray9.9.9-Nowhere",
        head: { cores: 1, memory: "512Mi" },
        packages: { pip: ["xgboost=2.1.1"] },
      }),
    );
    expect(result.code).not.toBe(0);
    // kubectl lists the causes of a 422 Invalid status, as it does for the API server's own validation.
    // Other runtimes may exist on a shared apiserver: the message lists them all, ours among them.
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('The DarwinCluster "invalid" is invalid: ');
    expect(lines[1]).toMatch(
      /^\* spec\.runtime: DarwinRuntime "Ray9\.9\.9-Nowhere" does not exist; set it to the displayName or name of one of: /,
    );
    expect(lines[1]).toContain(CPU_RUNTIME);
    expect(lines[1]).toContain(GPU_RUNTIME);
    expect(lines[2]).toBe(
      `* spec.head.memory: "512Mi" is 512Mi, less than the 1Gi a Ray node needs (raylet, object store and workers share it); ask for at least 1Gi (Ki, Mi, Gi, Ti are powers of 1024; K, M, G, T of 1000; no unit means GiB)`,
    );
    expect(lines[3]).toBe(
      `* spec.packages.pip[0]: "xgboost=2.1.1" is not a pip requirement; write name, name==version (two '='), name>=version, name[extra]==version or a package URL`,
    );

    const gpu = await create(
      cluster("gpu-on-cpu", {
        workerGroups: [
          { name: "cpu", cores: 1, memory: 2 },
          { name: "gpu", cores: 4, memory: "8Gi", gpus: 1 },
        ],
        head: { cores: 1, memory: "100M" },
      }),
    );
    expect(gpu.stderr).toContain(
      'The DarwinCluster "gpu-on-cpu" is invalid: \n* spec.workerGroups[1].gpus: 1 GPUs requested but runtime',
    );
    // other GPU runtimes may exist on a shared apiserver (hack/up's samples): ours is among those named
    expect(gpu.stderr).toMatch(
      new RegExp(`set spec\\.runtime to a GPU runtime \\([^)]*\\b${GPU_RUNTIME}\\b[^)]*\\) or set gpus to 0`),
    );
    expect(gpu.stderr).toContain("* spec.head.memory: ");
  });

  it("puts every field error into the one message of the API server's Status", async () => {
    const api = kubeConfig.makeApiClient(CustomObjectsApi);
    const body = cluster("invalid-api", {
      runtime: "Ray9.9.9-Nowhere",
      workerGroups: [{ name: "big", cores: 1, memory: "5Ti" }],
    });
    const status = await api
      .createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: "darwinclusters",
        body,
      })
      .then(
        () => undefined,
        (error: ApiException<string>) =>
          JSON.parse(error.body) as { code: number; reason: string; message: string },
      );
    expect(status).toMatchObject({ code: 422, reason: "Invalid" });
    expect(status?.message).toMatch(
      /^admission webhook "darwinclusters\.validate\.darwin\.dreamhorizon\.org" denied the request: 2 errors: \(1\) spec\.runtime: DarwinRuntime "Ray9\.9\.9-Nowhere" does not exist; set it to the displayName or name of one of: .+ \(2\) spec\.workerGroups\[0\]\.memory: "5Ti" is more than the 4Ti limit; ask for at most 4Ti$/,
    );
    expect(status?.message).toContain(CPU_RUNTIME);
  });

  it("checks memory, which the CRD leaves untyped: fractional GiB pass, other formats are refused in words", async () => {
    for (const [i, memory] of [4.5, "4.5", 8, "8Gi"].entries()) {
      const accepted = await kubectl(
        ["create", "--dry-run=server", "-f", "-"],
        cluster(`memory-${i}`, {
          workerGroups: [{ name: "default", cores: 1, memory, minPods: 0, maxPods: 2 }],
        }),
      );
      expect(accepted.stderr, String(memory)).toBe("");
    }
    const expected =
      "must be a memory size such as 8Gi, 512Mi or a number of GiB such as 4.5 (units Ki, Mi, Gi, Ti count in 1024s, K, M, G, T in 1000s; no space, no B)";
    for (const memory of ["8 GB", "8Gb"]) {
      const refused = await create(cluster("bad-memory", { head: { cores: 1, memory } }));
      expect(refused.stderr).toContain(`spec.head.memory: "${memory}" ${expected}`);
    }
    const object = await create(cluster("bad-memory", { head: { cores: 1, memory: { gib: 8 } } }));
    expect(object.stderr).toContain(
      "spec.head.memory: has the wrong type or format; expected memory for the head node",
    );
  });

  it("accepts a valid spec, and gpus on a gpu runtime", async () => {
    expect((await create(cluster("valid", {}))).stderr).toBe("");
    const gpu = cluster("gpu", {
      runtime: GPU_RUNTIME,
      workerGroups: [{ name: "gpu", cores: 4, memory: "8Gi", gpus: 1 }],
    });
    expect((await create(gpu)).code).toBe(0);
  });

  it("reports JSONata syntax errors and unknown serve environments of other kinds", async () => {
    const transformer = await create({
      apiVersion: API_VERSION,
      kind: "ChronosTransformer",
      metadata: { name: "broken", namespace, labels },
      spec: {
        source: "darwin-compute",
        match: 'type = "cluster_created"',
        transform: '{ "entities": [payload.x }',
      },
    });
    expect(transformer.stderr).toBe(
      'The ChronosTransformer "broken" is invalid: spec.transform: JSONata syntax error at line 1, column 26: ' +
        'Expected "]", got "}" (S0202); correct the expression near `"entities": [payload.x }`; try it against a sample event at https://try.jsonata.org\n',
    );
    const serve = await create({
      apiVersion: API_VERSION,
      kind: "Serve",
      metadata: { name: "iris", namespace, labels },
      spec: { environment: `nowhere-${RUN}`, type: "ray-serve" },
    });
    // A ray-serve Serve without a model is allowed (it waits for deploy-model): the environment is the one
    // error, which kubectl prints on the Status line itself (a list of causes starts with "* " per cause).
    expect(serve.stderr).toContain(
      `The Serve "iris" is invalid: spec.environment: ServeEnvironment "nowhere-${RUN}" does not exist; `,
    );
    expect(serve.stderr).not.toContain("spec.model");
  });

  it("keeps metadata-only updates working and warns about a runtime that disappeared", async () => {
    const temporary = `Tmp-${RUN}`;
    await kubectlOk(["create", "-f", "-"], runtime(temporary, false));
    await kubectlOk(["create", "-f", "-"], cluster("orphan", { runtime: temporary }));
    await kubectlOk(["delete", "darwinruntime", temporary.toLowerCase()]);
    // The API server does not even call the webhook for a label change (matchConditions).
    expect((await kubectl(["label", "darwincluster", "orphan", "-n", namespace, "touched=yes"])).code).toBe(
      0,
    );
    const update = await kubectl([
      "patch",
      "darwincluster",
      "orphan",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"suspend":true}}',
    ]);
    expect(update.code).toBe(0);
    expect(update.stderr).toContain(`Warning: spec.runtime: DarwinRuntime "${temporary}" no longer exists`);
  });

  it("keeps being called after the serving certificate rotates (new certificate, same CA)", async () => {
    const ca = webhook?.caBundle ?? "";
    const before = await servedSerial(ca);
    const deadline = Date.now() + SERVING_LIFETIME_MS;
    let after = before;
    while (after === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      after = await servedSerial(ca);
    }
    expect(after).not.toBe(before);
    expect(webhook?.caBundle).toBe(ca);

    // Rotation closed the idle connections, so the API server's next calls handshake with the new certificate.
    handshakes.length = 0;
    expect((await create(cluster("after-rotation", {}))).code).toBe(0);
    expect((await create(cluster("after-rotation-invalid", { runtime: "nope" }))).stderr).toContain(
      'DarwinRuntime "nope" does not exist',
    );
    expect(handshakes).toContain(after);
    expect(handshakes).not.toContain(before);
  });

  it("with the webhook stopped, refuses creates and spec changes (failurePolicy Fail) but not label changes or deletes", async () => {
    await webhook?.close();
    webhook = undefined;

    const refused = await create(cluster("while-down", {}));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /Internal error occurred: failed calling webhook "darwinclusters\.validate\.darwin\.dreamhorizon\.org": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/validate\/darwin\.dreamhorizon\.org\/v1alpha1\/darwinclusters\?timeout=10s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused/,
    );
    const specChange = await kubectl([
      "patch",
      "darwincluster",
      "valid",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"suspend":true}}',
    ]);
    expect(specChange.stderr).toContain("failed calling webhook");

    expect((await kubectl(["label", "darwincluster", "valid", "-n", namespace, "still=works"])).code).toBe(0);
    expect((await kubectl(["delete", "darwincluster", "gpu", "-n", namespace])).code).toBe(0);
    // Objects outside the configuration's selectors never depend on this webhook.
    expect((await create(cluster("unselected", { runtime: "not-checked" }, {}))).code).toBe(0);

    // An upgrade of the configuration (say by Helm) emptied every caBundle meanwhile.
    const configuration = JSON.parse(
      await kubectlOk(["get", "validatingwebhookconfiguration", CONFIGURATION, "-o", "json"]),
    );
    const removals = (configuration.webhooks as unknown[]).map((_, i) => ({
      op: "remove",
      path: `/webhooks/${i}/clientConfig/caBundle`,
    }));
    await kubectlOk([
      "patch",
      "validatingwebhookconfiguration",
      CONFIGURATION,
      "--type=json",
      "-p",
      JSON.stringify(removals),
    ]);

    // Started again, it reuses the CA and certificate in its Secret, puts the caBundle back and serves.
    webhook = await start("inject-ca");
    const injected = JSON.parse(
      await kubectlOk(["get", "validatingwebhookconfiguration", CONFIGURATION, "-o", "json"]),
    );
    for (const entry of injected.webhooks as { clientConfig: { caBundle?: string } }[]) {
      expect(Buffer.from(entry.clientConfig.caBundle ?? "", "base64").toString()).toBe(webhook.caBundle);
    }
    await untilWebhookAnswers();
    expect((await create(cluster("while-down", {}))).code).toBe(0);
  });
});
