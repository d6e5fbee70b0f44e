// @testbed control
/**
 * The usual kubectl and GitOps moves, run with kubectl itself against the real apiserver: a tenant's
 * `kubectl delete darwin --all -n X` stays inside X, re-applying a sample changes nothing, format errors say
 * what is expected in words at the field, and refusals of a list name the element at fault.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../test-e2e/support/kubectl.ts";
import { KINDS } from "./src/index.ts";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

const samplesDir = join(import.meta.dirname, "..", "samples");
/** The samples hack/up applies, one object of each kind (several runtimes and transformers). */
const sampleFiles = readdirSync(samplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
/** Every sample, with those of the subfolders (the real node's runtime and cluster, the housing model). */
const everySampleFile = readdirSync(samplesDir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const scopeOf = (kind: string) => KINDS.find((k) => k.kind === kind)?.scope;
/** Every document of a sample file (the runtimes' and the transformers' files hold several). */
const read = (file: string) =>
  parseAllDocuments(readFileSync(join(samplesDir, file), "utf8")).map((doc) => doc.toJS() as Manifest);
const sample = (kind: string) =>
  read(`darwin.dreamhorizon.org_v1alpha1_${kind.toLowerCase()}.yaml`)[0] as Manifest;
/** Several objects as one kubectl input. */
const list = (items: Manifest[]) => ({ apiVersion: "v1", kind: "List", items });

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUN_LABEL = "darwin.dreamhorizon.org/test-run";
/** Cluster-scoped objects get a per-run name and label: other runs and hack/up's samples are not touched. */
function forThisRun(manifest: Manifest, tag = ""): Manifest {
  if (scopeOf(manifest.kind) !== "Cluster") return manifest;
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      name: `${manifest.metadata.name}-${tag}${RUN}`,
      labels: { [RUN_LABEL]: RUN },
    },
  };
}

const tb = useTestbed();
const namespaces: string[] = [];
const newNamespace = async () => {
  const ns = await tb.createNamespace("api-kubectl");
  namespaces.push(ns);
  return ns;
};

afterAll(async () => {
  // the control tier runs no namespace controller: delete the objects, not just their namespaces (the
  // fixture deletes the namespaces afterwards)
  for (const ns of namespaces) await kubectl(["delete", "darwin", "--all", "-n", ns, "--wait=false"]);
  await kubectl(["delete", "darwin-admin", "-l", `${RUN_LABEL}=${RUN}`, "--wait=false"]);
});

describe("kubectl delete darwin --all -n X", () => {
  let a = "";
  let b = "";
  beforeAll(async () => {
    a = await newNamespace();
    b = await newNamespace();
    for (const file of sampleFiles) {
      for (const manifest of read(file).map((m) => forThisRun(m))) {
        if (scopeOf(manifest.kind) === "Cluster") await kubectlOk(["apply", "-f", "-"], manifest);
        else for (const ns of [a, b]) await kubectlOk(["apply", "-n", ns, "-f", "-"], manifest);
      }
    }
  });

  const names = async (args: string[]) =>
    (await kubectlOk(["get", ...args, "-o", "name"])).trim().split("\n").filter(Boolean).sort();

  it("lists every namespaced kind with get darwin, the cluster-scoped ones with get darwin-admin", async () => {
    const namespaced = KINDS.filter((k) => k.scope === "Namespaced");
    const inA = await names(["darwin", "-n", a]);
    // one object per namespaced document of the samples
    expect(inA).toHaveLength(
      sampleFiles.flatMap(read).filter((m) => scopeOf(m.kind) === "Namespaced").length,
    );
    for (const def of namespaced)
      expect(inA.join(" ")).toContain(`${def.singular}.${"darwin.dreamhorizon.org"}/`);
    const all = await kubectlOk(["get", "darwin", "-A"]);
    for (const ns of [a, b]) expect(all).toContain(ns);
    const admin = await names(["darwin-admin", "-l", `${RUN_LABEL}=${RUN}`]);
    const clusterScoped = sampleFiles
      .flatMap(read)
      .filter((m) => scopeOf(m.kind) === "Cluster")
      .map((m) => `${m.kind.toLowerCase()}.darwin.dreamhorizon.org/${m.metadata.name}-${RUN}`)
      .sort();
    expect(admin).toEqual(clusterScoped);
    expect(admin).toContain(`darwinruntime.darwin.dreamhorizon.org/ray2.37.0-py310-cpu-${RUN}`);
    expect(admin).toContain(`serveenvironment.darwin.dreamhorizon.org/local-${RUN}`);
    const everything = await kubectlOk(["get", "darwin,darwin-admin", "-A", "-o", "name"]);
    expect(everything).toContain(`darwinruntime.darwin.dreamhorizon.org/ray2.37.0-py310-cpu-${RUN}`);
    expect(everything).toContain("darwincluster.darwin.dreamhorizon.org/housing-project");
  });

  it("deletes only what is in X: the other namespace and the cluster-scoped kinds keep every object", async () => {
    const beforeB = await names(["darwin", "-n", b]);
    const beforeAdmin = await names(["darwin-admin"]);
    const deleted = await kubectl(["delete", "darwin", "--all", "-n", a]);
    expect(deleted.code).toBe(0);
    // kubectl warns when a category holds cluster-scoped kinds; it has nothing to warn about
    expect(deleted.stderr).toBe("");
    expect(deleted.stdout).not.toMatch(/darwinruntime|serveenvironment/);
    expect(await names(["darwin", "-n", a])).toEqual([]);
    expect(await names(["darwin", "-n", b])).toEqual(beforeB);
    expect(await names(["darwin-admin"])).toEqual(beforeAdmin);
  });
});

describe("re-applying every sample", () => {
  let clientSide = "";
  let serverSide = "";
  beforeAll(async () => {
    clientSide = await newNamespace();
    serverSide = await newNamespace();
  });
  /** The file's objects; cluster-scoped ones renamed for this run. */
  const objects = (file: string, flags: string[]) => read(file).map((m) => forThisRun(m, tagOf(flags)));
  const clusterScoped = (file: string) => scopeOf(read(file)[0]?.kind ?? "") === "Cluster";
  const apply = (ns: string, file: string, ...flags: string[]) =>
    // namespaced samples straight from the file, as a user would; cluster-scoped ones renamed for this run
    clusterScoped(file)
      ? kubectl(["apply", ...flags, "-f", "-"], list(objects(file, flags)))
      : kubectl(["apply", ...flags, "-n", ns, "-f", join(samplesDir, file)]);
  /** Client- and server-side runs name their cluster-scoped objects apart. */
  const tagOf = (flags: string[]) => (flags.includes("--server-side") ? "ss" : "cs");
  /**
   * What an apply can change of each of the file's objects: the spec (generation), labels and annotations.
   * Not the resourceVersion: a controller may write an object's status meanwhile (the Chronos processor
   * reports on every ChronosTransformer it sees).
   */
  const versionsOf = async (ns: string, file: string, ...flags: string[]) => {
    const versions: string[] = [];
    for (const manifest of objects(file, flags)) {
      const kind = `${manifest.kind.toLowerCase()}.darwin.dreamhorizon.org`;
      const scope = scopeOf(manifest.kind) === "Cluster" ? [] : ["-n", ns];
      const object = JSON.parse(
        await kubectlOk(["get", kind, manifest.metadata.name, ...scope, "-o", "json"]),
      ) as { metadata: { generation: number; labels?: object; annotations?: object } };
      const { generation, labels, annotations } = object.metadata;
      versions.push(JSON.stringify({ generation, labels, annotations }));
    }
    return versions;
  };
  /** kubectl's output says `word` of every object of the file. */
  const everyLine = (word: string) => new RegExp(`^(.* ${word}\\n)+$`);

  it.each(everySampleFile)("client-side: %s prints unchanged the second time", async (file) => {
    const ns = clientSide;
    const first = await apply(ns, file);
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(everyLine("created"));
    const before = await versionsOf(ns, file);
    const again = await apply(ns, file);
    expect(again.stderr).toBe("");
    expect(again.stdout).toMatch(everyLine("unchanged"));
    expect(await versionsOf(ns, file)).toEqual(before);
    await kubectl(["delete", "-f", "-", "-n", ns, "--wait=false"], list(objects(file, [])));
  });

  it.each(everySampleFile)(
    "server-side: %s is not written again, and kubectl diff is empty",
    async (file) => {
      const ns = serverSide;
      expect((await apply(ns, file, "--server-side")).code).toBe(0);
      const before = await versionsOf(ns, file, "--server-side");
      const again = await apply(ns, file, "--server-side");
      expect(again.stderr).toBe("");
      expect(again.stdout).toMatch(everyLine("serverside-applied"));
      expect(await versionsOf(ns, file, "--server-side")).toEqual(before);
      const manifests = list(objects(file, ["--server-side"]));
      const scope = clusterScoped(file) ? [] : ["-n", ns];
      const diff = await kubectl(["diff", "--server-side", ...scope, "-f", "-"], manifests);
      expect(diff.stdout).toBe("");
      expect(diff.code).toBe(0);
      await kubectl(["delete", "-f", "-", ...scope, "--wait=false"], manifests);
    },
  );
});

type Mutate = (m: Manifest) => void;
const at = (m: Manifest, path: string): Record<string, unknown> =>
  path
    .split(".")
    .reduce<Record<string, unknown>>(
      (o, k) => o[k] as Record<string, unknown>,
      m as unknown as Record<string, unknown>,
    );

describe("what kubectl shows for a wrong value", () => {
  let ns = "";
  beforeAll(async () => {
    ns = await newNamespace();
  });
  const create = (kind: string, mutate: Mutate) => {
    const manifest = forThisRun(structuredClone(sample(kind)), "bad");
    mutate(manifest);
    return kubectl(["create", "--dry-run=server", "-n", ns, "-f", "-"], manifest);
  };

  const FORMATS: [string, string, Mutate, string][] = [
    [
      "Serve",
      "model URI http://",
      (m) => (at(m, "spec.model").uri = "http://mlflow/iris"),
      'spec.model.uri: Invalid value: "http://mlflow/iris": must be a model URI: models:/<name>@<alias>, models:/<name>/<version>, mlflow-artifacts:/<path>, runs:/<run id>/<path> or s3://<bucket>/<key>, e.g. models:/iris@champion',
    ],
    [
      "Serve",
      "model URI models:/",
      (m) => (at(m, "spec.model").uri = "models:/"),
      'spec.model.uri: Invalid value: "models:/": must be a model URI',
    ],
    [
      "Serve",
      "image with a space",
      (m) => (m.spec.image = "registry.example.com/ml/iris server:1.0"),
      'spec.image: Invalid value: "registry.example.com/ml/iris server:1.0": must be an image reference [registry[:port]/]path[:tag][@sha256:digest] in lower case without spaces, e.g. registry.example.com/ml/iris:1.0',
    ],
    [
      "Serve",
      "a name starting with a digit",
      (m) => (m.metadata.name = "1-iris"),
      "metadata.name: Invalid value: the name of a Serve becomes a host name: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, e.g. iris-classifier",
    ],
    [
      "ArtifactBuild",
      "git URL without a scheme",
      (m) => (at(m, "spec.source.git").url = "git.example.com/ml/iris"),
      'spec.source.git.url: Invalid value: "git.example.com/ml/iris": must be a git repository URL: https://, ssh://, git:// or git@host:path, e.g. https://github.com/org/repo.git',
    ],
    [
      "CatalogAsset",
      "owner not an email",
      (m) => (m.spec.owner = "data-eng"),
      'spec.owner: Invalid value: "data-eng": must be an email address, e.g. data-eng@example.com',
    ],
    [
      "FeatureGroup",
      "a feature named like an entity",
      (m) => (at(m, "spec.features.0").name = "user_id"),
      'spec.features: Invalid value: feature "user_id" has the name of an entity key: give the feature another name',
    ],
    [
      "FeatureGroup",
      "a column name with capitals",
      (m) => (at(m, "spec.features.1").name = "Tenure"),
      "spec.features[1].name: Invalid value: \"Tenure\": must be lower-case letters, digits and '_', starting with a letter or '_', e.g. activity_score",
    ],
  ];

  it.each(FORMATS)("%s: %s is refused in words at the field", async (kind, _, mutate, message) => {
    const out = await create(kind, mutate);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(message);
    expect(out.stderr).not.toMatch(/should match|\^\(/);
  });

  // memory is untyped in the CRD (a number or a string); the webhook checks its format (webhook.int.test.ts)
  it.each([4.5, "4.5", 8, "8Gi", "512Mi"])(
    "memory %j is accepted by the apiserver, a bare number meaning GiB",
    async (value) => {
      const out = await create("DarwinCluster", (m) => {
        at(m, "spec.head").memory = value;
        at(m, "spec.workerGroups.0").memory = value;
      });
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
    },
  );
});

describe("what kubectl shows for an edit that breaks readers", () => {
  let ns = "";
  beforeAll(async () => {
    ns = await newNamespace();
  });
  const apply = (manifest: Manifest) => kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], manifest);
  const features = (m: Manifest) => m.spec.features as { name: string; type: string }[];

  it("a FeatureGroup cannot lose, rename or retype a feature without a version bump; the refusal names it", async () => {
    const fg = sample("FeatureGroup");
    fg.metadata.name = "fg-evolve";
    expect((await apply(fg)).code).toBe(0);

    const removed = structuredClone(fg);
    removed.spec.features = features(fg).filter((f) => f.name !== "tenure");
    expect((await apply(removed)).stderr).toContain(
      'spec.features: Invalid value: feature "tenure" was removed or renamed without a version bump: readers of this version would lose the column; keep it, or increase spec.version',
    );

    const renamed = structuredClone(fg);
    renamed.spec.features = features(fg).map((f) => (f.name === "age" ? { ...f, name: "age_years" } : f));
    expect((await apply(renamed)).stderr).toContain(
      'feature "age" was removed or renamed without a version bump',
    );

    const retyped = structuredClone(fg);
    retyped.spec.features = features(fg).map((f) => (f.name === "tenure" ? { ...f, type: "int64" } : f));
    expect((await apply(retyped)).stderr).toContain(
      'spec.features: Invalid value: type of feature "tenure" changed without a version bump: keep the type, or increase spec.version (a new version gets a new table)',
    );

    // adding a feature is compatible; a bump allows the rest
    const added = structuredClone(fg);
    added.spec.features = [...features(fg), { name: "clicks", type: "int64" }];
    expect((await apply(added)).stderr).toBe("");
    removed.spec.version = 2;
    const bumped = await apply(removed);
    expect(bumped.stderr).toBe("");
    expect(bumped.code).toBe(0);
  });

  it("an ArtifactBuild edit names each field changed", async () => {
    const build = sample("ArtifactBuild");
    build.metadata.name = "iris-once";
    expect((await apply(build)).code).toBe(0);
    at(build, "spec.source.git").revision = "v2";
    build.spec.timeoutSeconds = 600;
    expect((await apply(build)).stderr).toContain(
      "spec: Invalid value: an ArtifactBuild is one execution and cannot be changed (changed: spec.source.git.revision spec.timeoutSeconds): create a new ArtifactBuild with the new spec",
    );
  });
});
