// @testbed node
/**
 * Finished builds are deleted once past finishedRetentionSeconds (0 here), except the newest keepPerServe
 * (1 here) of each Serve: real builds on the real node, of a Dockerfile that pulls nothing (FROM scratch and
 * one COPY), one at a time.
 */
import { describe, expect, it } from "vitest";
import { ARTIFACT_BUILDS } from "../../controllers/artifact-build/reconciler.ts";
import { SERVE_LABEL } from "../../controllers/artifact-build/render/build-job.ts";
import { API_VERSION } from "../../crds/src/index.ts";
import { createObject, getObject } from "../../operator/testing/testbed.ts";
import { waitFor } from "../support/wait.ts";
import { buildFinished, podRegistry, statusOf, useRealBuilds } from "./real-builds.ts";

/** Starting a build pod and BuildKit, cloning and pushing one small layer. */
const BUILD_MS = 300_000;

const rb = useRealBuilds({
  prefix: "build-real-retention",
  repositories: { work: { quick: { Dockerfile: "FROM scratch\nCOPY Dockerfile /built-from\n" } } },
  builds: { finishedRetentionSeconds: 0, keepPerServe: 1, maxConcurrent: 1 },
});

const createBuild = (name: string, serve?: string) =>
  createObject(rb.client, ARTIFACT_BUILDS, {
    apiVersion: API_VERSION,
    kind: "ArtifactBuild",
    metadata: { name, namespace: rb.namespace, ...(serve && { labels: { [SERVE_LABEL]: serve } }) },
    spec: {
      source: { git: { url: rb.url("work"), revision: "quick" } },
      output: { image: `${podRegistry()}/${rb.namespace}/work:${name}` },
      timeoutSeconds: BUILD_MS / 1000,
    },
  });
const gone = (name: string, what: string) =>
  waitFor(what, async () => (await getObject(rb.client, ARTIFACT_BUILDS, rb.namespace, name)) === undefined, {
    timeoutMs: BUILD_MS,
    intervalMs: 1000,
  });

describe("finished builds on the real node", () => {
  it(
    "are deleted past their retention, keeping the newest of each Serve",
    async () => {
      await createBuild("iris-1", "iris");
      // The only finished build of its Serve stays, past its retention.
      expect((await buildFinished(rb, "iris-1", BUILD_MS)).phase).toBe("Succeeded");
      await createBuild("iris-2", "iris");
      await gone("iris-1", "iris-1 to be deleted once iris-2 finished");
      expect((await statusOf(rb, "iris-2")).phase).toBe("Succeeded");
      await createBuild("unlabelled");
      await gone("unlabelled", "a build of no Serve to be deleted once it finished");
      expect((await statusOf(rb, "iris-2")).phase).toBe("Succeeded");
    },
    3 * BUILD_MS,
  );
});
