// @testbed control
/**
 * The API as the real kube-apiserver enforces it: CRDs install, kubectl explains them, samples are accepted,
 * and invalid manifests are rejected with messages that name the field.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../test-e2e/support/kubectl.ts";
import { requireEnv } from "../test-e2e/support/testbed-env.ts";
import { KINDS } from "./src/index.ts";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
  spec: Record<string, unknown>;
};

const samplesDir = join(import.meta.dirname, "..", "samples");
/** Every document of a sample file (the runtimes' and the transformers' files hold several). */
const documents = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(samplesDir, file), "utf8")).map((doc) => doc.toJS() as Manifest);
const sample = (kind: string): Manifest =>
  documents(`darwin.dreamhorizon.org_v1alpha1_${kind.toLowerCase()}.yaml`)[0] as Manifest;

const tb = useTestbed({ namespace: "api" });
let ns = "";
let run = "";
beforeAll(() => {
  ns = tb.namespace;
  run = ns.slice(-6).replace(/[^a-z0-9]/g, "0");
  tb.defer(() =>
    kubectl([
      "delete",
      "darwinruntime,serveenvironment",
      "-l",
      `darwin.dreamhorizon.org/test-run=${run}`,
      "--wait=false",
    ]),
  );
  // the control tier runs no namespace controller: delete the objects, not just their namespace; the
  // category darwin holds only namespaced kinds, so this stays inside ns
  tb.defer(() => kubectl(["delete", "darwin", "--all", "-n", ns, "--wait=false"]));
});

/** Cluster-scoped samples get a per-run name so runs against one testbed do not collide. */
function forThisRun(manifest: Manifest): Manifest {
  const def = KINDS.find((k) => k.kind === manifest.kind);
  if (def?.scope !== "Cluster") return manifest;
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      name: `${manifest.metadata.name}-${run}`,
      labels: { "darwin.dreamhorizon.org/test-run": run },
    },
  };
}

describe("testbed apiserver", () => {
  it("reports the Kubernetes version that was built, not v0.0.0", async () => {
    const version = JSON.parse(await kubectlOk(["get", "--raw", "/version"])) as {
      gitVersion: string;
      major: string;
      minor: string;
    };
    expect(version.gitVersion).toBe(requireEnv("DARWIN_KUBE_VERSION"));
    expect(version.gitVersion).toMatch(/^v1\.(3[6-9])\.\d+$/);
    expect(`v${version.major}.${version.minor}`).toBe(version.gitVersion.split(".").slice(0, 2).join("."));
  });
});

describe("CRDs", () => {
  it("are all installed and Established", async () => {
    const out = await kubectlOk(["get", "crd", "-l", "app.kubernetes.io/part-of=darwin", "-o", "json"]);
    const crds = (
      JSON.parse(out) as {
        items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
      }
    ).items;
    // every kind of this checkout (a testbed may also hold kinds another version installed)
    expect(crds.map((c) => c.metadata.name)).toEqual(
      expect.arrayContaining(KINDS.map((k) => `${k.plural}.darwin.dreamhorizon.org`)),
    );
    for (const crd of crds) {
      expect(crd.status.conditions.find((c) => c.type === "Established")?.status, crd.metadata.name).toBe(
        "True",
      );
    }
  });

  it("kubectl explain darwincluster.spec prints our field descriptions", async () => {
    const out = await kubectlOk(["explain", "darwincluster.spec"]);
    expect(out).toContain("Desired state of a Ray cluster");
    expect(out).toMatch(/inactiveTimeMinutes\s+<number>/);
    expect(out).toContain("after which the operator suspends the cluster");
    const workers = await kubectlOk(["explain", "darwincluster.spec.workerGroups.minPods"]);
    expect(workers).toContain("Fewest workers the autoscaler keeps");
  });

  it("kubectl explain works for every kind", async () => {
    for (const def of KINDS) {
      expect(await kubectlOk(["explain", def.singular])).toContain(def.description.slice(0, 40));
    }
  });
});

describe("samples", () => {
  const files = readdirSync(samplesDir).filter((f) => f.endsWith(".yaml"));

  it("are all accepted by the apiserver; get darwin lists the namespaced kinds, get darwin-admin the others", async () => {
    for (const file of files) {
      for (const manifest of documents(file).map(forThisRun)) {
        const out = await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], manifest);
        expect(out.stderr, file).toBe("");
        expect(out.code, file).toBe(0);
      }
    }
    const listed = await kubectlOk(["get", "darwin", "-n", ns, "-o", "name"]);
    for (const def of KINDS.filter((k) => k.scope === "Namespaced")) {
      expect(listed, def.kind).toContain(`${def.singular}.darwin.dreamhorizon.org/`);
    }
    const clusterScoped = await kubectlOk([
      "get",
      "darwin-admin",
      "-l",
      `darwin.dreamhorizon.org/test-run=${run}`,
      "-o",
      "name",
    ]);
    for (const def of KINDS.filter((k) => k.scope === "Cluster")) {
      expect(clusterScoped, def.kind).toContain(`${def.singular}.darwin.dreamhorizon.org/`);
    }
  });

  it("get schema defaults filled in by the apiserver", async () => {
    const cluster = JSON.parse(
      await kubectlOk(["get", "darwincluster", "housing-project", "-n", ns, "-o", "json"]),
    ) as Manifest;
    expect(cluster.spec.suspend).toBe(false);
    expect((cluster.spec.head as Record<string, unknown>).capacity).toBe("on-demand");
    const serve = JSON.parse(
      await kubectlOk(["get", "serve", "iris-classifier", "-n", ns, "-o", "json"]),
    ) as Manifest;
    expect((serve.spec.replicas as Record<string, unknown>).targetCPUUtilizationPercent).toBe(70);
  });
});

type Case = [description: string, mutate: (m: Manifest) => void, field: string | RegExp];

const long = (n: number) => "a".repeat(n);
const at = (m: Manifest, path: string): Record<string, unknown> =>
  path
    .split(".")
    .reduce<Record<string, unknown>>(
      (o, k) => o[k] as Record<string, unknown>,
      m as unknown as Record<string, unknown>,
    );

const INVALID: Record<string, Case[]> = {
  DarwinRuntime: [
    ["missing image", (m) => delete m.spec.image, "spec.image: Required value"],
    ["rayVersion not x.y.z", (m) => (m.spec.rayVersion = "2.37"), "spec.rayVersion"],
    ["gpu of the wrong type", (m) => (m.spec.gpu = "yes"), "spec.gpu"],
    ["pythonVersion given as a number", (m) => (m.spec.pythonVersion = 3.1), "spec.pythonVersion"],
    ["name over 63 characters", (m) => (m.metadata.name = long(64)), "metadata.name"],
    ["a misspelt field", (m) => (m.spec.imagee = "x"), 'unknown field "spec.imagee"'],
  ],
  DarwinCluster: [
    ["missing head", (m) => delete m.spec.head, "spec.head: Required value"],
    [
      "minPods above maxPods",
      (m) => (at(m, "spec.workerGroups.0").minPods = 3),
      /spec\.workerGroups\[0\]\.minPods.*minPods must be less than or equal to maxPods/,
    ],
    [
      "unknown capacity",
      (m) => (at(m, "spec.workerGroups.0").capacity = "cheap"),
      /spec\.workerGroups\[0\]\.capacity: Unsupported value: "cheap"/,
    ],
    ["negative cores", (m) => (at(m, "spec.head").cores = -2), "spec.head.cores"],
    [
      "inactiveTimeMinutes as text",
      (m) => (m.spec.inactiveTimeMinutes = "an hour"),
      "spec.inactiveTimeMinutes",
    ],
    [
      "two worker groups with one name",
      (m) => (m.spec.workerGroups as unknown[]).push({ name: "default", cores: 1, memory: 2 }),
      /spec\.workerGroups\[1\]: Duplicate value/,
    ],
    ["name over 63 characters", (m) => (m.metadata.name = long(64)), "metadata.name"],
  ],
  DarwinJob: [
    ["missing entrypoint", (m) => delete m.spec.entrypoint, "spec.entrypoint: Required value"],
    ["missing cluster", (m) => delete m.spec.cluster, "spec.cluster: Required value"],
    [
      "a local working directory",
      (m) => (m.spec.runtimeEnv = { workingDir: "/home/ana/code" }),
      /spec\.runtimeEnv\.workingDir.*remote zip archive/,
    ],
    ["a submission id with spaces", (m) => (m.spec.submissionId = "my job"), "spec.submissionId"],
    ["name over 63 characters", (m) => (m.metadata.name = long(64)), "metadata.name"],
    ["a misspelt field", (m) => (m.spec.entrypiont = "python x.py"), 'unknown field "spec.entrypiont"'],
  ],
  FeatureGroup: [
    ["missing entities", (m) => delete m.spec.entities, "spec.entities: Required value"],
    [
      "unknown feature type",
      (m) => (at(m, "spec.features.0").type = "float"),
      /spec\.features\[0\]\.type: Unsupported value: "float"/,
    ],
    ["negative ttlSeconds", (m) => (m.spec.ttlSeconds = -1), "spec.ttlSeconds"],
    [
      "a feature named like an entity",
      (m) => (at(m, "spec.features.0").name = "user_id"),
      /spec\.features: .*feature "user_id" has the name of an entity key/,
    ],
    ["no entities", (m) => (m.spec.entities = []), "spec.entities"],
    [
      "a column name with capitals",
      (m) => (at(m, "spec.features.1").name = "Tenure"),
      "spec.features[1].name",
    ],
    ["name over 63 characters", (m) => (m.metadata.name = long(64)), "metadata.name"],
  ],
  ServeEnvironment: [
    ["missing domainSuffix", (m) => delete m.spec.domainSuffix, "spec.domainSuffix: Required value"],
    [
      "unknown defaultCapacity",
      (m) => (m.spec.defaultCapacity = "reserved"),
      /spec\.defaultCapacity: Unsupported value/,
    ],
    ["namespace as a number", (m) => (m.spec.namespace = 5), "spec.namespace"],
    [
      "tracking URI not http(s)",
      (m) => (m.spec.mlflowTrackingURI = "ftp://mlflow"),
      "spec.mlflowTrackingURI",
    ],
    ["name over 63 characters", (m) => (m.metadata.name = long(64)), "metadata.name"],
  ],
  Serve: [
    ["missing environment", (m) => delete m.spec.environment, "spec.environment: Required value"],
    [
      "min replicas above max",
      (m) => (at(m, "spec.replicas").min = 5),
      /spec\.replicas\.min.*replicas\.min must be less than or equal to replicas\.max/,
    ],
    [
      "scale to zero",
      (m) => (at(m, "spec.replicas").min = 0),
      /spec\.replicas\.min: Invalid value: .*replicas\.min 0 \(scale to zero\) is not supported: .*set replicas\.min to 1 or more/,
    ],
    ["unknown type", (m) => (m.spec.type = "grpc"), /spec\.type: Unsupported value: "grpc"/],
    [
      "model URI of an unknown scheme",
      (m) => (at(m, "spec.model").uri = "file:///tmp/model"),
      "spec.model.uri",
    ],
    [
      "image and artifactBuildRef together",
      (m) => Object.assign(m.spec, { image: "x/y:1", artifactBuildRef: { name: "b" } }),
      /spec\.image.*either image or artifactBuildRef/,
    ],
    ["negative cores", (m) => (at(m, "spec.resources").cores = -1), "spec.resources.cores"],
    ["name starting with a digit", (m) => (m.metadata.name = "1-iris"), "metadata.name"],
  ],
  ArtifactBuild: [
    ["missing output image", (m) => delete at(m, "spec.output").image, "spec.output.image: Required value"],
    ["timeout below a minute", (m) => (m.spec.timeoutSeconds = 10), "spec.timeoutSeconds"],
    [
      "contextDir escaping the repository",
      (m) => (at(m, "spec.source").contextDir = "src/../../etc"),
      /spec\.source\.contextDir.*'\.\.'/,
    ],
    ["git URL without a scheme", (m) => (at(m, "spec.source.git").url = "not a url"), "spec.source.git.url"],
    [
      "ttl too short to read the outcome",
      (m) => (m.spec.ttlSecondsAfterFinished = 30),
      /spec\.ttlSecondsAfterFinished.*at least 60/,
    ],
    ["name over 52 characters", (m) => (m.metadata.name = long(53)), "metadata.name"],
  ],
  ChronosTransformer: [
    ["missing transform", (m) => delete m.spec.transform, "spec.transform: Required value"],
    ["priority as text", (m) => (m.spec.priority = "high"), "spec.priority"],
    ["source with spaces", (m) => (m.spec.source = "Darwin Compute"), "spec.source"],
    ["empty transform", (m) => (m.spec.transform = ""), "spec.transform"],
    ["suspend as text", (m) => (m.spec.suspend = "no"), "spec.suspend"],
    ["name over 253 characters", (m) => (m.metadata.name = long(254)), "metadata.name"],
  ],
  CatalogAsset: [
    ["unknown asset type", (m) => (m.spec.type = "bucket"), /spec\.type: Unsupported value: "bucket"/],
    [
      "a table without a schema",
      (m) => Object.assign(m.spec, { type: "table", schema: [] }),
      /spec\.schema.*a table needs a schema/,
    ],
    ["location not a URI", (m) => (m.spec.location = "lake/housing"), "spec.location"],
    ["missing owner", (m) => delete m.spec.owner, "spec.owner: Required value"],
    ["owner not an email", (m) => (m.spec.owner = "data-eng"), "spec.owner"],
    [
      "two schema fields with one name",
      (m) => (m.spec.schema as unknown[]).push({ name: "price", type: "int64" }),
      /spec\.schema\[2\]: Duplicate value/,
    ],
  ],
};

describe.each(KINDS.map((k) => [k.kind] as const))("invalid %s", (kind) => {
  const cases = INVALID[kind] ?? [];
  it("has at least five cases", () => expect(cases.length).toBeGreaterThanOrEqual(5));
  it.each(cases)("%s is rejected naming the field", async (_, mutate, field) => {
    const manifest = forThisRun(structuredClone(sample(kind)));
    mutate(manifest);
    const out = await kubectl(["create", "-n", ns, "-f", "-"], manifest);
    expect(out.code).not.toBe(0);
    if (typeof field === "string") expect(out.stderr).toContain(field);
    else expect(out.stderr).toMatch(field);
  });
});

describe("updates that would break users", () => {
  it("a FeatureGroup's feature type cannot change without a version bump, and can with one", async () => {
    const fg = sample("FeatureGroup");
    fg.metadata.name = "fg-evolve";
    await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], fg);
    at(fg, "spec.features.0").type = "int64";
    const refused = await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], fg);
    expect(refused.stderr).toMatch(
      /spec\.features: .*type of feature "age" changed without a version bump: keep the type, or increase spec\.version/,
    );
    fg.spec.version = 2;
    expect((await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], fg)).code).toBe(0);
    fg.spec.version = 1;
    expect((await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], fg)).stderr).toMatch(
      /spec\.version.*may not decrease/,
    );
  });

  it("a Serve's environment is immutable", async () => {
    const serve = sample("Serve");
    serve.metadata.name = "iris-moving";
    await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], serve);
    serve.spec.environment = "prod";
    expect((await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], serve)).stderr).toMatch(
      /spec\.environment.*immutable/,
    );
  });

  it("an ArtifactBuild cannot be changed after creation", async () => {
    const build = sample("ArtifactBuild");
    build.metadata.name = "iris-once";
    await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], build);
    at(build, "spec.source.git").revision = "v2";
    expect((await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], build)).stderr).toMatch(
      /spec: .*an ArtifactBuild is one execution and cannot be changed \(changed: spec\.source\.git\.revision\): create a new ArtifactBuild/,
    );
  });
});
