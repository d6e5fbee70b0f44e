// @testbed cluster gitops
/**
 * Darwin synced by Argo CD from git, as a platform team runs it: the testbed's Argo CD (application
 * controller and repo server, with the health checks of charts/darwin/argocd/argocd-cm.yaml) syncs an
 * Application from a repository on the testbed's git daemon holding a DarwinRuntime, a DarwinCluster and a
 * cancelled ArtifactBuild, while Darwin's operator runs in this process. The Application turns Synced and
 * Healthy and stays Synced (the objects' defaults come from the CRD schemas, which Argo CD's diff leaves
 * alone); a change pushed to git reaches the cluster; a runtime that does not exist degrades the
 * DarwinCluster, and Argo CD shows the Ready condition's message as the resource's health.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  ARTIFACT_BUILDS,
  createArtifactBuildController,
} from "../../controllers/artifact-build/reconciler.ts";
import {
  createDarwinClusterController,
  DARWIN_CLUSTERS,
} from "../../controllers/darwin-cluster/reconciler.ts";
import { findCondition } from "../../operator/conditions.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME = `gitops-it-${RUN}`;
const RUNTIME_DISPLAY = `Ray2.37.0-GitOps-${RUN}`;
const APP = `darwin-${RUN}`;
const CLUSTER = "housing";
const BUILD = "iris-cancelled";
/** Argo CD's first sync compares every kind of the cluster; KubeRay and KWOK then bring the cluster up. */
const SLOW = { timeoutMs: 180_000, intervalMs: 1000 };
/** A test's own limit: one SLOW wait and the git and kubectl calls around it. */
const TEST_TIMEOUT = 240_000;

interface ResourceStatus {
  group?: string;
  kind: string;
  name: string;
  status?: string;
  health?: { status?: string; message?: string };
}
interface Application {
  metadata: { annotations?: Record<string, string> };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    resources?: ResourceStatus[];
    reconciledAt?: string;
    operationState?: { phase?: string; message?: string; syncResult?: { revision?: string } };
  };
}

const tb = useTestbed({ namespace: "gitops", cleanup: [DARWIN_CLUSTERS, ARTIFACT_BUILDS] });
let namespace = "";
let work = "";
let argocd = "";

function git(...args: string[]): string {
  const as = ["-c", "user.email=platform@example.com", "-c", "user.name=platform"];
  const result = spawnSync("git", [...as, ...args], { cwd: work, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

function darwinCluster(runtime: string, maxPods: number) {
  return {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name: CLUSTER },
    spec: {
      runtime,
      owner: "platform@example.com",
      head: { cores: 1, memory: "2Gi" },
      workerGroups: [{ name: "spot", cores: 1, memory: 2, minPods: 1, maxPods, capacity: "spot" }],
      jupyter: { enabled: false },
    },
  };
}

/** Writes the repository's manifests, commits and pushes them to the git daemon; the commit. */
function push(message: string, cluster: object): string {
  writeFileSync(join(work, "darwincluster.yaml"), stringify(cluster));
  git("add", ".");
  git("commit", "-q", "-m", message);
  git("push", "-q", "origin", "main");
  return git("rev-parse", "HEAD");
}

const application = async () =>
  JSON.parse(await kubectlOk(["get", "application", APP, "-n", argocd, "-o", "json"])) as Application;

const resource = (app: Application, kind: string) => app.status?.resources?.find((r) => r.kind === kind);

/**
 * Asks Argo CD to look at git again now, as its UI's Refresh button (or a git webhook) would; a hard refresh
 * also renders the manifests again instead of taking them from its cache.
 */
const refresh = (kind: "normal" | "hard" = "normal") =>
  kubectlOk([
    "annotate",
    "application",
    APP,
    "-n",
    argocd,
    "--overwrite",
    `argocd.argoproj.io/refresh=${kind}`,
  ]);

/** What Argo CD last said about the Application, for a failure's message. */
function summary(app: Application | undefined): string {
  const status = app?.status;
  return JSON.stringify({
    sync: status?.sync,
    health: status?.health,
    operation: status?.operationState && {
      phase: status.operationState.phase,
      message: status.operationState.message,
      revision: status.operationState.syncResult?.revision,
    },
    resources: status?.resources?.map((r) => ({ kind: r.kind, sync: r.status, health: r.health })),
  });
}

/** Waits until Argo CD synced `revision` and the Application is Synced with `health`. */
async function synced(revision: string, health: string): Promise<Application> {
  let last: Application | undefined;
  try {
    return await waitFor(
      `Application ${APP} Synced at ${revision.slice(0, 7)} and ${health}`,
      async () => {
        last = await application();
        const status = last.status;
        return status?.sync?.status === "Synced" &&
          status.sync.revision === revision &&
          status.operationState?.syncResult?.revision === revision &&
          status.health?.status === health
          ? last
          : undefined;
      },
      SLOW,
    );
  } catch (error) {
    throw new Error(`${String(error)}; Argo CD's last status: ${summary(last)}`);
  }
}

beforeAll(async () => {
  namespace = tb.namespace;
  argocd = requireEnv("DARWIN_ARGOCD_NAMESPACE");
  await tb.startOperator([createDarwinClusterController(), createArtifactBuildController()]);

  // The repository: a bare one the git daemon serves, and a clone the test commits in.
  const bare = `${namespace}.git`;
  const root = requireEnv("DARWIN_GIT_ROOT");
  work = mkdtempSync(join(tmpdir(), "darwin-gitops-"));
  spawnSync("git", ["init", "-q", "--bare", "-b", "main", join(root, bare)]);
  tb.defer(() => rmSync(join(root, bare), { recursive: true, force: true }));
  tb.defer(() => rmSync(work, { recursive: true, force: true }));
  git("init", "-q", "-b", "main");
  git("remote", "add", "origin", `${requireEnv("DARWIN_GIT_URL")}/${bare}`);
  writeFileSync(
    join(work, "darwinruntime.yaml"),
    stringify({
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: "DarwinRuntime",
      metadata: { name: RUNTIME },
      spec: {
        displayName: RUNTIME_DISPLAY,
        rayVersion: "2.37.0",
        pythonVersion: "3.10",
        image: "rayproject/ray:2.37.0-py310",
      },
    }),
  );
  // Cancelled from the start (spec.cancel in git): the operator never starts it, and marks it Cancelled.
  writeFileSync(
    join(work, "artifactbuild.yaml"),
    stringify({
      apiVersion: ARTIFACT_BUILDS.apiVersion,
      kind: ARTIFACT_BUILDS.kind,
      metadata: { name: BUILD },
      spec: {
        source: { git: { url: "https://git.example.com/ml/iris.git", revision: "main" } },
        output: { image: "registry.example.com/ml/iris:1.0" },
        cancel: true,
      },
    }),
  );

  // The Application goes first (the repository is pushed once Argo CD watches it), and goes before the
  // namespace and the runtime: without its finalizer, deleting it leaves the synced objects to the cleanup.
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME, "--ignore-not-found", "--wait=false"]));
  tb.defer(() => kubectl(["delete", "application", APP, "-n", argocd, "--ignore-not-found"]));
});

describe("Argo CD syncing Darwin from git", () => {
  let first = "";

  it(
    "syncs the samples and shows them Synced and Healthy, the cancelled build included",
    async () => {
      first = push("a cluster, its runtime and a cancelled build", darwinCluster(RUNTIME_DISPLAY, 1));
      await kubectlOk(["apply", "-f", "-"], {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: { name: APP, namespace: argocd },
        spec: {
          project: "default",
          source: {
            repoURL: `${requireEnv("DARWIN_GIT_URL")}/${namespace}.git`,
            targetRevision: "main",
            path: ".",
          },
          destination: { server: "https://kubernetes.default.svc", namespace },
          syncPolicy: { automated: { prune: true, selfHeal: true } },
        },
      });
      const app = await synced(first, "Healthy");

      const byKind = Object.fromEntries(
        (app.status?.resources ?? []).map((r) => [r.kind, { sync: r.status, health: r.health }]),
      );
      expect(byKind).toEqual({
        DarwinRuntime: {
          sync: "Synced",
          health: { status: "Healthy", message: "DarwinRuntime is a setting; nothing reports on it" },
        },
        DarwinCluster: {
          sync: "Synced",
          health: { status: "Healthy", message: `RayCluster ${CLUSTER} is ready.` },
        },
        ArtifactBuild: {
          sync: "Synced",
          health: {
            status: "Healthy",
            message: "The build was cancelled (spec.cancel); its Job and pod were deleted.",
          },
        },
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "stays Synced once the operator has written status and the apiserver its defaults",
    async () => {
      // A hard refresh makes Argo CD render git again and diff it against the live objects, which by now
      // carry the schema's defaults, the operator's status and finalizer, and Argo CD's own tracking.
      // Argo CD removes the annotation once it has compared again (reconciledAt has a second's resolution).
      const before = (await application()).status?.reconciledAt ?? "";
      await refresh("hard");
      const app = await waitFor(
        "Argo CD to reconcile the Application again",
        async () => {
          const current = await application();
          const at = current.status?.reconciledAt ?? "";
          return at >= before && current.metadata.annotations?.["argocd.argoproj.io/refresh"] === undefined
            ? current
            : undefined;
        },
        SLOW,
      );
      expect(app.status?.sync?.status).toBe("Synced");
      expect((app.status?.resources ?? []).filter((r) => r.status !== "Synced")).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    "applies a change pushed to git",
    async () => {
      const second = push("two spot workers at most", darwinCluster(RUNTIME_DISPLAY, 2));
      await refresh();
      await synced(second, "Healthy");
      const live = await getObject(tb.client, DARWIN_CLUSTERS, namespace, CLUSTER);
      const spec = live?.spec as { workerGroups: Array<{ maxPods: number }> } | undefined;
      expect(spec?.workerGroups[0]?.maxPods).toBe(2);
    },
    TEST_TIMEOUT,
  );

  it(
    "shows a degraded DarwinCluster as Degraded with its Ready condition's message",
    async () => {
      const missing = `Ray9.9.9-Missing-${RUN}`;
      const third = push("a runtime that does not exist", darwinCluster(missing, 2));
      await refresh();
      const app = await synced(third, "Degraded");
      const live = await getObject(tb.client, DARWIN_CLUSTERS, namespace, CLUSTER);
      const status = live?.status as { conditions?: Parameters<typeof findCondition>[0] } | undefined;
      const ready = findCondition(status?.conditions, "Ready");
      expect(ready).toMatchObject({ status: "False", reason: "RuntimeNotFound" });
      expect(ready?.message).toContain(`DarwinRuntime "${missing}" does not exist`);
      expect(resource(app, "DarwinCluster")?.health).toEqual({ status: "Degraded", message: ready?.message });
    },
    TEST_TIMEOUT,
  );
});
