// @testbed cluster
/**
 * The chart against the testbed's apiserver, with helm and kubectl as a platform engineer runs them: lint,
 * a server-side dry run of everything it renders, a wrong value refused with its path, and a release's
 * life (install, upgrade with a changed value, uninstall). The testbed's pods are KWOK's (Running, nothing
 * runs in them), so nothing here needs the operator to answer: the webhook fails open (failurePolicy
 * Ignore) for the release's lifetime.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk, runTestbedTool } from "../test-e2e/support/kubectl.ts";

const CHART = join(import.meta.dirname, "darwin");
const RELEASE = "darwin-it";

const helm = (args: readonly string[]) => runTestbedTool("DARWIN_HELM", args, undefined, 120_000);

async function helmOk(args: readonly string[]): Promise<string> {
  const run = await helm(args);
  if (run.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${run.code}): ${run.stderr}`);
  return run.stdout;
}

/** The fields of the objects read back that the assertions look at. */
interface Kube {
  apiVersion: string;
  kind: string;
  metadata: { generation: number; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: each assertion reads its own kind's fields
  spec: any;
  status?: Record<string, number | undefined>;
  subjects?: unknown[];
  webhooks: { clientConfig: { service: object } }[];
  data: Record<string, string>;
}

const getJson = async (args: readonly string[]) =>
  JSON.parse(await kubectlOk(["get", ...args, "-o", "json"])) as Kube;

/** Polls `check` until it returns true or the deadline passes. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting until ${what}`);
}

const tb = useTestbed({ namespace: "helm" });
let namespace = "";

/** The chart's default runtimes and environment: the samples, which hack/up may already have applied. */
const DEFAULTS = [
  "darwinruntime/ray2.37.0-py310-cpu",
  "darwinruntime/ray2.37.0-py310-gpu",
  "darwinruntime/ray2.37.0-py310-spark3.5.1-cpu",
  "serveenvironment/local",
];
/** The defaults as they were before this file ran, put back afterwards. */
let saved: Array<{ metadata: Record<string, unknown> }> = [];

beforeAll(async () => {
  namespace = tb.namespace;
  tb.defer(async () => {
    await helm(["uninstall", RELEASE, "-n", namespace]);
    // What uninstall keeps on purpose, created by this file: the default runtimes and environment.
    await kubectl(["delete", ...DEFAULTS, "--ignore-not-found"]);
    if (saved.length > 0) {
      for (const item of saved) {
        for (const field of ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"])
          delete item.metadata[field];
      }
      await kubectlOk(["create", "-f", "-"], { apiVersion: "v1", kind: "List", items: saved });
    }
  });
  // Helm will not adopt objects it did not create: the samples of the same names step aside while the
  // release owns them, and come back as they were.
  // With none of them there, kubectl prints nothing at all (not an empty list).
  const listed = await kubectlOk(["get", ...DEFAULTS, "--ignore-not-found", "-o", "json"]);
  const existing = JSON.parse(listed.trim() === "" ? '{"items": []}' : listed) as {
    items: Array<{ metadata: Record<string, unknown> }>;
  };
  saved = existing.items;
  if (saved.length > 0) await kubectlOk(["delete", ...DEFAULTS, "--ignore-not-found"]);
});

describe("charts/darwin on the testbed", () => {
  it("passes helm lint", async () => {
    const out = await helmOk(["lint", CHART]);
    expect(out).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("renders objects the apiserver accepts (server-side dry run), in both certificate modes", async () => {
    const selfManaged = await helmOk(["template", RELEASE, CHART, "-n", namespace]);
    const applied = await kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", "-"], selfManaged);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toContain("deployment.apps/darwin-operator created (server dry run)");
    expect(applied.stdout).toContain("deployment.apps/darwin-materializer created (server dry run)");
    expect(applied.stdout).toContain(
      `clusterrole.rbac.authorization.k8s.io/${RELEASE}-materializer created (server dry run)`,
    );
    expect(applied.stdout).toContain(
      `validatingwebhookconfiguration.admissionregistration.k8s.io/${RELEASE}-validating-webhook created (server dry run)`,
    );

    // The testbed has no cert-manager: its Issuer and Certificate are checked for shape, the rest applied.
    const certManager = parseAllDocuments(
      await helmOk([
        "template",
        RELEASE,
        CHART,
        "-n",
        namespace,
        "--set",
        "config.webhook.certificates.mode=cert-manager",
      ]),
    )
      .map((d) => d.toJSON() as Kube | null)
      .filter((o) => o !== null);
    const [issued, rest] = [
      certManager.filter((o) => o.apiVersion === "cert-manager.io/v1"),
      certManager.filter((o) => o.apiVersion !== "cert-manager.io/v1"),
    ];
    expect(issued.map((o) => o.kind).sort()).toEqual(["Certificate", "Issuer"]);
    const certificate = issued.find((o) => o.kind === "Certificate");
    expect(certificate?.spec.dnsNames).toContain(`darwin-webhook.${namespace}.svc`);
    const webhook = rest.find((o) => o.kind === "ValidatingWebhookConfiguration");
    expect(webhook?.metadata.annotations).toEqual({
      "cert-manager.io/inject-ca-from": `${namespace}/darwin-webhook`,
    });
    const list = { apiVersion: "v1", kind: "List", items: rest };
    const appliedCm = await kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", "-"], list);
    expect(appliedCm.stderr).toBe("");
  });

  it("renders a ServiceMonitor of the operator and the data plane only when asked", async () => {
    const plain = parseAllDocuments(await helmOk(["template", RELEASE, CHART]));
    expect(plain.map((d) => (d.toJSON() as Kube | null)?.kind)).not.toContain("ServiceMonitor");
    const monitor = parseAllDocuments(
      await helmOk(["template", RELEASE, CHART, "--set", "serviceMonitor.enabled=true"]),
    )
      .map((d) => d.toJSON() as Kube | null)
      .find((o) => o?.kind === "ServiceMonitor");
    expect(monitor?.spec.selector.matchExpressions[0].values).toEqual([
      "darwin-operator",
      "darwin-feature-server",
      "darwin-materializer",
      "darwin-chronos",
      "darwin-catalog",
    ]);
  });

  it("renders the Grafana dashboard's ConfigMap, labelled for the sidecar, only when asked", async () => {
    const plain = parseAllDocuments(await helmOk(["template", RELEASE, CHART]));
    expect(plain.map((d) => (d.toJSON() as Kube | null)?.metadata)).not.toContainEqual(
      expect.objectContaining({ name: "darwin-grafana-dashboard" }),
    );
    const rendered = await helmOk([
      "template",
      RELEASE,
      CHART,
      "-n",
      namespace,
      "--set",
      "grafanaDashboard.enabled=true",
    ]);
    const map = parseAllDocuments(rendered)
      .map(
        (d) => d.toJSON() as (Kube & { metadata: { name: string; labels: Record<string, string> } }) | null,
      )
      .find((o) => o?.kind === "ConfigMap" && o.metadata.name === "darwin-grafana-dashboard");
    expect(map?.metadata.labels.grafana_dashboard).toBe("1");
    const dashboard = JSON.parse(map?.data["darwin.json"] ?? "{}") as { uid?: string; panels?: unknown[] };
    expect(dashboard.uid).toBe("darwin-overview");
    expect(dashboard.panels?.length).toBeGreaterThan(10);
    const applied = await kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", "-"], rendered);
    expect(applied.stdout).toContain("configmap/darwin-grafana-dashboard created (server dry run)");
  });

  it("points the data plane at the offline store, its keys in the stores Secret", async () => {
    const objects = parseAllDocuments(
      await helmOk([
        "template",
        RELEASE,
        CHART,
        "--set",
        "stores.offlineStore.uri=s3://lake/features",
        "--set",
        "stores.offlineStore.endpoint=http://s3.example:9000",
        "--set",
        "stores.offlineStore.accessKeyId=key",
        "--set",
        "stores.offlineStore.secretAccessKey=secret",
      ]),
    )
      .map(
        (d) =>
          d.toJSON() as (Kube & { metadata: { name: string }; stringData?: Record<string, string> }) | null,
      )
      .filter((o) => o !== null);
    const materializer = objects.find(
      (o) => o.kind === "Deployment" && o.metadata.name === "darwin-materializer",
    );
    const pod = materializer?.spec.template.spec;
    expect(pod.serviceAccountName).toBe("darwin-materializer");
    const env = pod.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>;
    expect(env).toContainEqual({ name: "DARWIN_OFFLINE_STORE_URI", value: "s3://lake/features" });
    expect(env).toContainEqual({ name: "DARWIN_S3_ENDPOINT", value: "http://s3.example:9000" });
    expect(env).toContainEqual({
      name: "DARWIN_S3_SECRET_ACCESS_KEY",
      valueFrom: { secretKeyRef: { name: "darwin-stores", key: "s3-secret-access-key", optional: true } },
    });
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === "darwin-stores");
    expect(secret?.stringData).toEqual({ "s3-access-key-id": "key", "s3-secret-access-key": "secret" });
    const bad = await helm(["template", RELEASE, CHART, "--set", "stores.offlineStore.uri=lake/features"]);
    expect(bad.stderr).toContain("at '/stores/offlineStore/uri'");
  });

  it("refuses a wrong value before rendering, naming its path", async () => {
    const workers = await helm(["template", RELEASE, CHART, "--set", "config.workers=0"]);
    expect(workers.code).not.toBe(0);
    expect(workers.stderr).toContain("at '/config/workers': minimum: got 0, want 1");
    const mode = await helm(["template", RELEASE, CHART, "--set", "config.webhook.certificates.mode=vault"]);
    expect(mode.stderr).toContain("at '/config/webhook/certificates/mode'");
    const typo = await helm(["template", RELEASE, CHART, "--set", "operator.replica=3"]);
    expect(typo.stderr).toMatch(/at '\/operator': additional properties? 'replica' not allowed/);
  });

  it("installs, upgrades with a changed value, and uninstalls keeping the CRDs and users' objects", async () => {
    await helmOk([
      "install",
      RELEASE,
      CHART,
      "-n",
      namespace,
      "--set",
      "webhook.failurePolicy=Ignore",
      "--set",
      "webhook.timeoutSeconds=2",
    ]);
    const deployment = await getJson(["deployment", "darwin-operator", "-n", namespace]);
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toEqual([
      "--max-semi-space-size=4",
      "--max-old-space-size=384",
      "cmd/operator.ts",
      "--config",
      "/etc/darwin/operator.yaml",
    ]);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    await eventually("both operator replicas are available", async () => {
      const d = await getJson(["deployment", "darwin-operator", "-n", namespace]);
      return d.status?.availableReplicas === 2;
    });
    const pdb = await getJson(["pdb", "darwin-operator", "-n", namespace]);
    expect(pdb.spec.minAvailable).toBe(1);
    // The cluster-scoped objects carry the release's name (it says darwin, so no "-darwin" is added).
    const vwc = await getJson(["validatingwebhookconfiguration", `${RELEASE}-validating-webhook`]);
    expect(vwc.webhooks[0].clientConfig.service).toMatchObject({ namespace, name: "darwin-webhook" });
    const config = await getJson(["configmap", "darwin-operator-config", "-n", namespace]);
    expect(config.data["operator.yaml"]).toContain(`namespace: ${namespace}`);
    const lease = await getJson(["rolebinding", "darwin-operator-leader-election", "-n", namespace]);
    expect(lease.subjects).toEqual([{ kind: "ServiceAccount", name: "darwin-operator", namespace }]);
    await getJson(["darwinruntime", "ray2.37.0-py310-cpu"]);
    await getJson(["hpa", "darwin-feature-server", "-n", namespace]);
    // Each data-plane service may do what it does and no more, as the apiserver decides.
    const can = async (account: string, ...what: string[]) =>
      (
        await kubectl(["auth", "can-i", ...what, `--as=system:serviceaccount:${namespace}:${account}`])
      ).stdout.trim();
    expect(
      await can(
        "darwin-materializer",
        "patch",
        "featuregroups.darwin.dreamhorizon.org",
        "--subresource=status",
      ),
    ).toBe("yes");
    expect(await can("darwin-materializer", "list", "featuregroups.darwin.dreamhorizon.org")).toBe("yes");
    expect(await can("darwin-materializer", "patch", "featuregroups.darwin.dreamhorizon.org")).toBe("no");
    expect(
      await can(
        "darwin-feature-server",
        "patch",
        "featuregroups.darwin.dreamhorizon.org",
        "--subresource=status",
      ),
    ).toBe("no");
    expect(
      await can(
        "darwin-chronos-processor",
        "patch",
        "chronostransformers.darwin.dreamhorizon.org",
        "--subresource=status",
      ),
    ).toBe("yes");

    // A user's object, which uninstall must leave alone.
    await kubectlOk([
      "apply",
      "-n",
      namespace,
      "-f",
      join(CHART, "..", "..", "samples", "darwin.dreamhorizon.org_v1alpha1_darwincluster.yaml"),
    ]);

    const before: string = deployment.spec.template.metadata.annotations["checksum/config"];
    await helmOk([
      "upgrade",
      RELEASE,
      CHART,
      "-n",
      namespace,
      "--reuse-values",
      "--set",
      "config.logLevel=debug",
    ]);
    const upgraded = await getJson(["deployment", "darwin-operator", "-n", namespace]);
    expect(upgraded.metadata.generation).toBeGreaterThan(deployment.metadata.generation);
    expect(upgraded.spec.template.metadata.annotations["checksum/config"]).not.toBe(before);
    const upgradedConfig = await getJson(["configmap", "darwin-operator-config", "-n", namespace]);
    expect(upgradedConfig.data["operator.yaml"]).toContain("logLevel: debug");
    await eventually("the new pod template rolled out", async () => {
      const d = await getJson(["deployment", "darwin-operator", "-n", namespace]);
      return (
        d.status?.observedGeneration === d.metadata.generation &&
        d.status?.updatedReplicas === 2 &&
        d.status?.availableReplicas === 2 &&
        d.status?.replicas === 2
      );
    });

    await helmOk(["uninstall", RELEASE, "-n", namespace]);
    expect((await kubectl(["get", "deployment", "darwin-operator", "-n", namespace])).code).not.toBe(0);
    expect(
      (await kubectl(["get", "validatingwebhookconfiguration", `${RELEASE}-validating-webhook`])).code,
    ).not.toBe(0);
    await getJson(["crd", "darwinclusters.darwin.dreamhorizon.org"]);
    await getJson(["darwincluster", "housing-project", "-n", namespace]);
    const kept = await getJson(["darwinruntime", "ray2.37.0-py310-cpu"]);
    expect(kept.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
  });
});
