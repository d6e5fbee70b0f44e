// @testbed node
/**
 * Real image builds on the real node: the ArtifactBuild controller (in this process) renders its build Job,
 * the node runs BuildKit from the local registry's darwin-buildkit image, which clones the sample repository
 * (samples/local/iris-server) from a git daemon on the node's address, builds its Dockerfile on the
 * darwin-mlflow-serve image and pushes the result to the local registry. A Serve with artifactBuildRef then
 * runs the pushed image on the node and answers a prediction through its Service. A Dockerfile whose RUN
 * fails and a revision the repository lacks end Failed, naming the step and the revision.
 *
 * Pods reach the registry and the git daemon at the node's address (the bridge's gateway):
 * DARWIN_REGISTRY_FROM_PODS, where BuildKit pushes over plain HTTP (artifactBuilds.insecureRegistries), and
 * the node pulls the image under that name.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactBuildsConfig } from "../../controllers/artifact-build/config.ts";
import {
  ARTIFACT_BUILDS,
  createArtifactBuildController,
} from "../../controllers/artifact-build/reconciler.ts";
import type { ArtifactBuildStatus } from "../../controllers/artifact-build/status.ts";
import { git, gitDaemon } from "../../controllers/artifact-build/testing/local-build.ts";
import { createServeController, SERVE_ENVIRONMENTS, SERVES } from "../../controllers/serve/reconciler.ts";
import type { ServeStatus } from "../../controllers/serve/revisions.ts";
import { API_VERSION } from "../../crds/src/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  createObject,
  getObject,
  startManager,
  type TestManager,
  testbedClient,
  testConfig,
} from "../../operator/testing/testbed.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";
import { realNodeNamespace } from "./real-node.ts";

const SAMPLE = join(import.meta.dirname, "..", "..", "samples", "local", "iris-server");
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENVIRONMENT = `node-build-${RUN}`;
/** A build pulls its base image, runs the training step and pushes: minutes on a busy two-core node. */
const BUILD_MS = 900_000;

/** The registry as this machine reaches it, and as pods do (the node's address, forwarded to it). */
const hostRegistry = () => requireEnv("DARWIN_REGISTRY");
const podRegistry = () => requireEnv("DARWIN_REGISTRY_FROM_PODS");
/** An image of the local registry named as pods reach it. */
const fromPods = (image: string) => image.replace(hostRegistry(), podRegistry());

let client: KubeClient;
let namespace: string;
let operator: TestManager;
let repos: string;
let daemon: { base: string; stop(): void };
let commit: string;

const statusOf = async (name: string) =>
  ((await getObject(client, ARTIFACT_BUILDS, namespace, name))?.status ?? {}) as ArtifactBuildStatus;
const finished = (name: string) =>
  waitFor(
    `ArtifactBuild ${name} to finish`,
    async () => {
      const status = await statusOf(name);
      return ["Succeeded", "Failed", "Cancelled"].includes(status.phase ?? "") ? status : undefined;
    },
    { timeoutMs: BUILD_MS, intervalMs: 2000 },
  );
const createBuild = (name: string, revision: string) =>
  createObject(client, ARTIFACT_BUILDS, {
    apiVersion: API_VERSION,
    kind: "ArtifactBuild",
    metadata: { name, namespace },
    spec: {
      source: { git: { url: `${daemon.base}/iris-server.git`, revision } },
      buildArgs: [{ name: "BASE", value: fromPods(requireEnv("DARWIN_IMAGE_DARWIN_MLFLOW_SERVE")) }],
      output: { image: `${podRegistry()}/${namespace}/iris-server:${name}` },
      timeoutSeconds: BUILD_MS / 1000,
    },
  });

/**
 * The sample in a bare repository: main as it is in samples/, and a branch `broken` whose Dockerfile has a
 * RUN that fails after printing a line. Returns main's commit.
 */
function sampleRepository(dir: string): string {
  const work = join(dir, "work");
  const bare = join(dir, "iris-server.git");
  cpSync(SAMPLE, work, { recursive: true });
  const as = ["-c", "user.email=build@example.com", "-c", "user.name=build"];
  git(dir, "init", "-q", "--bare", "-b", "main", bare);
  git(work, "init", "-q", "-b", "main");
  git(work, "add", ".");
  git(work, ...as, "commit", "-q", "-m", "iris server");
  const main = git(work, "rev-parse", "HEAD");
  git(work, "checkout", "-q", "-b", "broken");
  writeFileSync(join(work, "Dockerfile"), "ARG BASE\nFROM $BASE\nRUN echo checking the model && exit 3\n");
  git(work, ...as, "commit", "-q", "-am", "a failing step");
  git(work, "push", "-q", bare, "main", "broken");
  return main;
}

beforeAll(async () => {
  client = testbedClient();
  // The registry at the node's address is what BuildKit pushes to (hack/components/node.sh forwards it).
  const probe = await fetch(`http://${podRegistry()}/v2/`, { signal: AbortSignal.timeout(5000) }).catch(
    (err: unknown) => err as Error,
  );
  if (probe instanceof Error || !probe.ok) {
    throw new Error(
      `the local registry does not answer at ${podRegistry()} (${probe instanceof Error ? probe.message : probe.status}): start the node tier of this checkout (hack/testbed up node), which forwards it`,
    );
  }
  namespace = await realNodeNamespace("node-build");
  repos = mkdtempSync(join(tmpdir(), "darwin-node-build-"));
  commit = sampleRepository(repos);
  daemon = await gitDaemon(repos, requireEnv("DARWIN_NODE_IP"), "iris-server.git");
  await createObject(client, SERVE_ENVIRONMENTS, {
    apiVersion: API_VERSION,
    kind: "ServeEnvironment",
    metadata: { name: ENVIRONMENT },
    spec: { domainSuffix: ".local", clusterName: "testbed", namespace },
  });
  const builds = artifactBuildsConfig.parse({
    image: requireEnv("DARWIN_IMAGE_DARWIN_BUILDKIT"),
    insecureRegistries: [podRegistry()],
    maxConcurrent: 1,
    // The node's two CPUs are shared with the other node suites' pods: a build takes what is left.
    resources: {},
  });
  operator = await startManager(
    [createServeController(), createArtifactBuildController({ builds })],
    testConfig(namespace),
  );
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  daemon?.stop();
  if (repos) rmSync(repos, { recursive: true, force: true });
  if (namespace) {
    await kubectl([
      "delete",
      "serves,artifactbuilds",
      "--all",
      "-n",
      namespace,
      "--wait=true",
      "--timeout=60s",
    ]);
    await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
  }
  await kubectl(["delete", "serveenvironment", ENVIRONMENT, "--ignore-not-found", "--wait=false"]);
  client?.close();
});

describe("ArtifactBuild on the real node", () => {
  it(
    "builds the sample with BuildKit, pushes it to the local registry, and a Serve runs it and predicts",
    async () => {
      await createBuild("iris", "main");
      const status = await finished("iris");
      expect(status.phase, `${status.conditions?.find((c) => c.type === "Succeeded")?.message}`).toBe(
        "Succeeded",
      );
      expect(status.commitSha).toBe(commit);
      expect(status.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(status.image).toBe(`${podRegistry()}/${namespace}/iris-server@${status.imageDigest}`);
      expect(status.imageSize).toBeGreaterThan(1_000_000);

      // the registry holds the image under its tag, with the digest the status names
      const manifest = await fetch(`http://${hostRegistry()}/v2/${namespace}/iris-server/manifests/iris`, {
        headers: {
          Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        },
      });
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get("docker-content-digest")).toBe(status.imageDigest);

      await createObject(client, SERVES, {
        apiVersion: API_VERSION,
        kind: "Serve",
        metadata: { name: "iris", namespace },
        spec: {
          environment: ENVIRONMENT,
          type: "api",
          model: { uri: "s3://models/iris/1" },
          artifactBuildRef: { name: "iris" },
          resources: { cores: 0.1, memory: "512Mi" },
        },
      });
      const serve = await waitFor(
        "the Serve to be Ready",
        async () => {
          const s = ((await getObject(client, SERVES, namespace, "iris"))?.status ?? {}) as ServeStatus;
          return s.phase === "Ready" ? s : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 1000 },
      );
      expect(serve.currentRevision?.image).toBe(status.image);
      const pods = JSON.parse(
        await kubectlOk([
          "-n",
          namespace,
          "get",
          "pods",
          "-l",
          "darwin.dreamhorizon.org/serve=iris",
          "-o",
          "json",
        ]),
      ) as { items: Array<{ spec: { nodeName?: string } }> };
      expect(pods.items.map((p) => p.spec.nodeName)).toContain(requireEnv("DARWIN_NODE"));

      const clusterIP = (
        await kubectlOk(["-n", namespace, "get", "service", "iris", "-o", "jsonpath={.spec.clusterIP}"])
      ).trim();
      const prediction = await fetch(`http://${clusterIP}/iris/predict`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ features: [[5.1, 3.5, 1.4, 0.2]] }),
      });
      expect(prediction.status).toBe(200);
      expect(await prediction.json()).toEqual({ predictions: ["setosa"] });
    },
    BUILD_MS + 360_000,
  );

  it(
    "fails a build whose RUN fails, with the step and the end of its log",
    async () => {
      await createBuild("broken", "broken");
      const status = await finished("broken");
      expect(status.phase).toBe("Failed");
      const failed = status.conditions?.find((c) => c.type === "Succeeded");
      expect(failed?.reason).toBe("BuildFailed");
      expect(status.failedStep).toContain("RUN echo checking the model && exit 3");
      expect(failed?.message).toContain("exit code: 3");
      expect(status.logTail).toContain("checking the model");
    },
    BUILD_MS,
  );

  it(
    "fails a build of a revision the repository lacks, naming it",
    async () => {
      await createBuild("missing", "no-such-branch");
      const status = await finished("missing");
      expect(status.phase).toBe("Failed");
      expect(status.conditions?.find((c) => c.type === "Succeeded")?.message).toContain(
        "spec.source.git.revision no-such-branch is not a branch, tag or full commit",
      );
    },
    BUILD_MS,
  );
});
