/**
 * What the tests of real image builds on the node share: the local registry as this machine and as pods
 * reach it, git repositories served by `git daemon` on the node's address, the ArtifactBuild controller
 * (with the Serve controller when a test deploys) running in this process against a namespace of the
 * test's own on the real node, and waiting for a build's status.
 *
 * Pods reach the registry and the git daemon at the node's address (the bridge's gateway):
 * DARWIN_REGISTRY_FROM_PODS, where BuildKit pushes over plain HTTP (artifactBuilds.insecureRegistries), and
 * the node pulls the image under that name.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { z } from "zod";
import { artifactBuildsConfig } from "../../controllers/artifact-build/config.ts";
import {
  ARTIFACT_BUILDS,
  createArtifactBuildController,
} from "../../controllers/artifact-build/reconciler.ts";
import { buildJobName } from "../../controllers/artifact-build/render/build-job.ts";
import type { ArtifactBuildStatus } from "../../controllers/artifact-build/status.ts";
import { git, gitDaemon } from "../../controllers/artifact-build/testing/local-build.ts";
import { createServeController, SERVE_ENVIRONMENTS, SERVES } from "../../controllers/serve/reconciler.ts";
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
import { kubectl } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";
import { realNodeNamespace } from "./real-node.ts";

/** The registry as this machine reaches it, and as pods do (the node's address, forwarded to it). */
export const hostRegistry = (): string => requireEnv("DARWIN_REGISTRY");
export const podRegistry = (): string => requireEnv("DARWIN_REGISTRY_FROM_PODS");
/** An image of the local registry named as pods reach it. */
export const fromPods = (image: string): string => image.replace(hostRegistry(), podRegistry());

/** A repository's branches: each a set of files (path to content) committed on top of nothing. */
export type Branches = Record<string, Record<string, string>>;

export interface RealBuilds {
  client: KubeClient;
  namespace: string;
  /** git:// URL of a repository made by useRealBuilds, as pods reach it. */
  url(repository: string): string;
  /** The commit each branch of each repository points at: commits[repository][branch]. */
  commits: Record<string, Record<string, string>>;
  /** The ServeEnvironment of the namespace, when the Serve controller runs. */
  environment: string;
}

/**
 * Bare repositories with one commit per branch, served by a git daemon on the node's address; a namespace
 * on the real node; the ArtifactBuild controller with the testbed's BuildKit image and the local registry
 * as insecure, and the Serve controller with a ServeEnvironment of the namespace when `serve` is set.
 */
export function useRealBuilds(options: {
  /** Prefix of the namespace's name. */
  prefix: string;
  repositories: Record<string, Branches>;
  builds?: Omit<z.input<typeof artifactBuildsConfig>, "image" | "insecureRegistries">;
  serve?: boolean;
}): RealBuilds {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const rb = { commits: {}, environment: `${options.prefix}-${run}` } as RealBuilds;
  let operator: TestManager | undefined;
  let daemon: { base: string; stop(): void } | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    rb.client = testbedClient();
    // The registry at the node's address is what BuildKit pushes to (hack/components/node.sh forwards it).
    const probe = await fetch(`http://${podRegistry()}/v2/`, { signal: AbortSignal.timeout(5000) }).catch(
      (err: unknown) => err as Error,
    );
    if (probe instanceof Error || !probe.ok) {
      throw new Error(
        `the local registry does not answer at ${podRegistry()} (${probe instanceof Error ? probe.message : probe.status}): start the node tier of this checkout (hack/testbed up node), which forwards it`,
      );
    }
    rb.namespace = await realNodeNamespace(options.prefix);
    dir = mkdtempSync(join(tmpdir(), "darwin-real-builds-"));
    for (const [name, branches] of Object.entries(options.repositories)) {
      rb.commits[name] = bareRepository(dir, name, branches);
    }
    const [first] = Object.keys(options.repositories);
    daemon = await gitDaemon(dir, requireEnv("DARWIN_NODE_IP"), `${first}.git`);
    rb.url = (repository) => `${daemon?.base}/${repository}.git`;
    if (options.serve) {
      await createObject(rb.client, SERVE_ENVIRONMENTS, {
        apiVersion: API_VERSION,
        kind: "ServeEnvironment",
        metadata: { name: rb.environment },
        spec: { domainSuffix: ".local", clusterName: "testbed", namespace: rb.namespace },
      });
    }
    const builds = artifactBuildsConfig.parse({
      // The node's two CPUs are shared with the other node suites' pods: a build takes what is left.
      resources: {},
      ...options.builds,
      image: requireEnv("DARWIN_IMAGE_DARWIN_BUILDKIT"),
      insecureRegistries: [podRegistry()],
    });
    const controllers = [createArtifactBuildController({ builds })];
    operator = await startManager(
      options.serve ? [createServeController(), ...controllers] : controllers,
      testConfig(rb.namespace),
    );
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (rb.namespace) {
      await kubectl([
        "delete",
        "serves,artifactbuilds",
        "--all",
        "-n",
        rb.namespace,
        "--wait=true",
        "--timeout=60s",
      ]);
      await kubectl(["delete", "namespace", rb.namespace, "--wait=false", "--ignore-not-found"]);
    }
    if (options.serve) {
      await kubectl(["delete", "serveenvironment", rb.environment, "--ignore-not-found", "--wait=false"]);
    }
    rb.client?.close();
  });
  return rb;
}

/** A bare repository `<name>.git` in `dir`, one commit per branch; the commit of each branch. */
function bareRepository(dir: string, name: string, branches: Branches): Record<string, string> {
  const bare = join(dir, `${name}.git`);
  const as = ["-c", "user.email=build@example.com", "-c", "user.name=build"];
  git(dir, "init", "-q", "--bare", "-b", "main", bare);
  const commits: Record<string, string> = {};
  for (const [branch, files] of Object.entries(branches)) {
    const work = mkdtempSync(join(dir, `${name}-${branch}-`));
    git(work, "init", "-q", "-b", branch);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(work, "add", ".");
    git(work, ...as, "commit", "-q", "-m", branch);
    git(work, "push", "-q", bare, branch);
    commits[branch] = git(work, "rev-parse", "HEAD");
  }
  return commits;
}

export const statusOf = async (rb: RealBuilds, name: string): Promise<ArtifactBuildStatus> =>
  ((await getObject(rb.client, ARTIFACT_BUILDS, rb.namespace, name))?.status ?? {}) as ArtifactBuildStatus;

/** Waits until the build's status passes `check`; returns it. */
export const buildUntil = (
  rb: RealBuilds,
  name: string,
  what: string,
  check: (status: ArtifactBuildStatus) => boolean,
  timeoutMs: number,
): Promise<ArtifactBuildStatus> =>
  waitFor(
    `ArtifactBuild ${name}: ${what}`,
    async () => {
      const status = await statusOf(rb, name);
      return check(status) ? status : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );

/** Waits until the build ends (Succeeded, Failed or Cancelled). */
export const buildFinished = (
  rb: RealBuilds,
  name: string,
  timeoutMs: number,
): Promise<ArtifactBuildStatus> =>
  buildUntil(
    rb,
    name,
    "finished",
    (s) => ["Succeeded", "Failed", "Cancelled"].includes(s.phase ?? ""),
    timeoutMs,
  );

/** The names of the build's pods (none once they are deleted). */
export async function buildPodNames(rb: RealBuilds, build: string): Promise<string[]> {
  const result = await kubectl([
    "-n",
    rb.namespace,
    "get",
    "pods",
    "-l",
    `batch.kubernetes.io/job-name=${buildJobName(build)}`,
    "-o",
    "name",
  ]);
  return result.stdout.split("\n").filter(Boolean);
}

/** The build pod's log so far ("" while it cannot be read). */
export async function buildLog(rb: RealBuilds, build: string): Promise<string> {
  const result = await kubectl(["-n", rb.namespace, "logs", `job/${buildJobName(build)}`]);
  return result.code === 0 ? result.stdout : "";
}

/**
 * Creates the Serve `iris` of the sample model server, pointed at an ArtifactBuild that need not exist or
 * have succeeded yet: it deploys nothing until the build has succeeded.
 */
export const createWaitingServe = (rb: RealBuilds, build: string) =>
  createObject(rb.client, SERVES, {
    apiVersion: API_VERSION,
    kind: "Serve",
    metadata: { name: "iris", namespace: rb.namespace },
    spec: {
      environment: rb.environment,
      type: "api",
      model: { uri: "s3://models/iris/1" },
      artifactBuildRef: { name: build },
      resources: { cores: 0.1, memory: "512Mi" },
    },
  });
