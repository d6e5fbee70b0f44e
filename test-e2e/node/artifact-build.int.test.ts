// @testbed node
/**
 * Real image builds on the real node: the ArtifactBuild controller (in this process) renders its build Job,
 * the node runs BuildKit from the local registry's darwin-buildkit image, which clones the sample repository
 * (samples/local/iris-server) from a git daemon on the node's address, builds its Dockerfile on the
 * darwin-mlflow-serve image and pushes the result to the local registry. A Serve with artifactBuildRef
 * waits for the build, deploying nothing, then runs the pushed image on the node and answers a prediction
 * through its Service. A Dockerfile whose RUN fails, a repository git cannot read and a revision the
 * repository lacks end Failed, naming the step, the URL and the revision. The setup is real-builds.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARTIFACT_BUILDS } from "../../controllers/artifact-build/reconciler.ts";
import { SERVES } from "../../controllers/serve/reconciler.ts";
import type { ServeStatus } from "../../controllers/serve/revisions.ts";
import { DEPLOYMENTS } from "../../controllers/shared/resource-types.ts";
import { API_VERSION } from "../../crds/src/index.ts";
import { createObject, eventsAbout, getObject } from "../../operator/testing/testbed.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";
import {
  buildFinished,
  buildUntil,
  createWaitingServe,
  fromPods,
  hostRegistry,
  podRegistry,
  useRealBuilds,
} from "./real-builds.ts";

const SAMPLE = join(import.meta.dirname, "..", "..", "samples", "local", "iris-server");
/** A build pulls its base image, runs the training step and pushes: minutes on a busy two-core node. */
const BUILD_MS = 900_000;

const rb = useRealBuilds({
  prefix: "build-real-iris",
  repositories: {
    "iris-server": {
      main: Object.fromEntries(readdirSync(SAMPLE).map((f) => [f, readFileSync(join(SAMPLE, f), "utf8")])),
      broken: { Dockerfile: "ARG BASE\nFROM $BASE\nRUN echo checking the model && exit 3\n" },
    },
  },
  builds: { maxConcurrent: 1 },
  serve: true,
});

/** A build of the repository at `revision` on `base` (darwin-mlflow-serve for the sample). */
const createBuild = (name: string, revision: string, base = requireEnv("DARWIN_IMAGE_DARWIN_MLFLOW_SERVE")) =>
  createObject(rb.client, ARTIFACT_BUILDS, {
    apiVersion: API_VERSION,
    kind: "ArtifactBuild",
    metadata: { name, namespace: rb.namespace },
    spec: {
      source: { git: { url: rb.url("iris-server"), revision } },
      buildArgs: [{ name: "BASE", value: fromPods(base) }],
      output: { image: `${podRegistry()}/${rb.namespace}/iris-server:${name}` },
      timeoutSeconds: BUILD_MS / 1000,
    },
  });
const serveStatus = async () =>
  ((await getObject(rb.client, SERVES, rb.namespace, "iris"))?.status ?? {}) as ServeStatus;
const serveReady = (s: ServeStatus) => s.conditions?.find((c) => c.type === "Ready");

describe("ArtifactBuild on the real node", () => {
  it(
    "builds the sample with BuildKit and pushes it; a Serve waits for the build, then runs it and predicts",
    async () => {
      // The Serve comes first: it waits for the build, deploying nothing, until the build has succeeded.
      await createWaitingServe(rb, "iris");
      await waitFor("the Serve to wait for a build that does not exist yet", async () =>
        serveReady(await serveStatus())?.message?.includes(
          "Waiting for ArtifactBuild iris, which does not exist yet",
        ),
      );
      await createBuild("iris", "main");
      await buildUntil(rb, "iris", "Building", (s) => s.phase === "Building", 30_000);
      const waiting = await waitFor("the Serve to see the build building", async () => {
        const s = await serveStatus();
        return serveReady(s)?.message?.includes("is Building") ? s : undefined;
      });
      expect(waiting.phase).toBe("Resolving");
      expect(serveReady(waiting)?.reason).toBe("WaitingForBuild");
      expect(await getObject(rb.client, DEPLOYMENTS, rb.namespace, "iris")).toBeUndefined();

      const status = await buildFinished(rb, "iris", BUILD_MS);
      const succeeded = status.conditions?.find((c) => c.type === "Succeeded");
      expect(status.phase, succeeded?.message).toBe("Succeeded");
      expect(status.commitSha).toBe(rb.commits["iris-server"]?.main);
      expect(status.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(status.image).toBe(`${podRegistry()}/${rb.namespace}/iris-server@${status.imageDigest}`);
      expect(status.imageSize).toBeGreaterThan(1_000_000);
      expect(status.startTime).toBeDefined();
      expect(status.completionTime).toBeDefined();
      expect(succeeded).toMatchObject({ status: "True", reason: "Succeeded" });
      expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True" });
      const events = await eventsAbout(rb.client, rb.namespace, "iris");
      expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(["Started", "Succeeded"]));

      // the registry holds the image under its tag, with the digest the status names
      const manifest = await fetch(`http://${hostRegistry()}/v2/${rb.namespace}/iris-server/manifests/iris`, {
        headers: {
          Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        },
      });
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get("docker-content-digest")).toBe(status.imageDigest);

      const serve = await waitFor(
        "the Serve to be Ready",
        async () => {
          const s = await serveStatus();
          return s.phase === "Ready" ? s : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 1000 },
      );
      expect(serve.currentRevision?.image).toBe(status.image);
      const pods = JSON.parse(
        await kubectlOk([
          "-n",
          rb.namespace,
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
        await kubectlOk(["-n", rb.namespace, "get", "service", "iris", "-o", "jsonpath={.spec.clusterIP}"])
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
      await createBuild("broken", "broken", requireEnv("DARWIN_IMAGE_DARWIN_BASE"));
      const status = await buildFinished(rb, "broken", BUILD_MS);
      expect(status.phase).toBe("Failed");
      const failed = status.conditions?.find((c) => c.type === "Succeeded");
      expect(failed?.reason).toBe("BuildFailed");
      expect(status.failedStep).toBe("[2/2] RUN echo checking the model && exit 3");
      expect(failed?.message).toContain("Step [2/2] RUN echo checking the model && exit 3 failed");
      expect(failed?.message).toContain("exit code: 3");
      expect(status.logTail).toContain("checking the model");
      expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False" });
    },
    BUILD_MS,
  );

  it(
    "fails a build of a repository git cannot read, naming the URL",
    async () => {
      const url = rb.url("iris-server").replace(/iris-server\.git$/, "no-such-repository.git");
      await createObject(rb.client, ARTIFACT_BUILDS, {
        apiVersion: API_VERSION,
        kind: "ArtifactBuild",
        metadata: { name: "unreadable", namespace: rb.namespace },
        spec: {
          source: { git: { url, revision: "main" } },
          output: { image: `${podRegistry()}/${rb.namespace}/iris-server:unreadable` },
        },
      });
      const status = await buildFinished(rb, "unreadable", BUILD_MS);
      expect(status.phase).toBe("Failed");
      expect(status.conditions?.find((c) => c.type === "Succeeded")?.message).toContain(
        `spec.source.git.url ${url} cannot be read`,
      );
    },
    BUILD_MS,
  );

  it(
    "fails a build of a revision the repository lacks, naming it",
    async () => {
      await createBuild("missing", "no-such-branch");
      const status = await buildFinished(rb, "missing", BUILD_MS);
      expect(status.phase).toBe("Failed");
      expect(status.conditions?.find((c) => c.type === "Succeeded")?.message).toContain(
        "spec.source.git.revision no-such-branch is not a branch, tag or full commit",
      );
    },
    BUILD_MS,
  );
});
