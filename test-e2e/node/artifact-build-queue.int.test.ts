// @testbed node
/**
 * The build queue, cancel and the deadline with real builds on the real node (one build at a time):
 * BuildKit runs a Dockerfile whose RUN sleeps (on the small darwin-base image) while three cheap builds
 * (FROM scratch, one COPY: nothing to pull) wait behind it at positions 1, 2 and 3; cancelling it deletes
 * its Job and pod and the three then run one after the other, in queue order, each woken by the end of
 * the previous one's Job; a sleeping build with timeoutSeconds 60 fails DeadlineExceeded.
 */
import { describe, expect, it } from "vitest";
import { ARTIFACT_BUILDS } from "../../controllers/artifact-build/reconciler.ts";
import { buildJobName } from "../../controllers/artifact-build/render/build-job.ts";
import type { ArtifactBuildStatus } from "../../controllers/artifact-build/status.ts";
import { JOBS } from "../../controllers/shared/resource-types.ts";
import { API_VERSION } from "../../crds/src/index.ts";
import { createObject, eventsAbout, getObject, mergePatch } from "../../operator/testing/testbed.ts";
import { kubectl } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";
import {
  buildFinished,
  buildLog,
  buildPodNames,
  buildUntil,
  fromPods,
  podRegistry,
  statusOf,
  useRealBuilds,
} from "./real-builds.ts";

/** Starting a build pod, pulling darwin-base into its empty BuildKit state: well within this on the node. */
const START_MS = 300_000;

const rb = useRealBuilds({
  prefix: "build-real-queue",
  repositories: {
    work: {
      sleep: { Dockerfile: "ARG BASE\nFROM $BASE\nRUN echo sleeping && sleep 600\n" },
      quick: { Dockerfile: "FROM scratch\nCOPY Dockerfile /built-from\n" },
    },
  },
  builds: { maxConcurrent: 1, maxConcurrentPerNamespace: 1 },
});

const createBuild = (name: string, branch: "sleep" | "quick", timeoutSeconds = 1800) =>
  createObject(rb.client, ARTIFACT_BUILDS, {
    apiVersion: API_VERSION,
    kind: "ArtifactBuild",
    metadata: { name, namespace: rb.namespace },
    spec: {
      source: { git: { url: rb.url("work"), revision: branch } },
      buildArgs: [{ name: "BASE", value: fromPods(requireEnv("DARWIN_IMAGE_DARWIN_BASE")) }],
      output: { image: `${podRegistry()}/${rb.namespace}/work:${name}` },
      timeoutSeconds,
    },
  });
const condition = (status: ArtifactBuildStatus, type: string) =>
  status.conditions?.find((c) => c.type === type);
/** Waits until the build's RUN step sleeps: BuildKit is building, not starting. */
const untilSleeping = (name: string) =>
  waitFor(`${name} to run its RUN step`, async () => (await buildLog(rb, name)).includes("sleeping"), {
    timeoutMs: START_MS,
    intervalMs: 2000,
  });
const QUEUED = ["q1", "q2", "q3"];

describe("the build queue on the real node (concurrency 1)", () => {
  it(
    "queues three builds behind a running one at positions 1, 2 and 3",
    async () => {
      await createBuild("blocker", "sleep");
      await buildUntil(rb, "blocker", "Building", (s) => s.phase === "Building", 30_000);
      await untilSleeping("blocker");
      for (const name of QUEUED) await createBuild(name, "quick", 600);
      for (const [index, name] of QUEUED.entries()) {
        const status = await buildUntil(
          rb,
          name,
          `queue position ${index + 1}`,
          (s) => s.queuePosition === index + 1,
          30_000,
        );
        expect(status.phase).toBe("Queued");
        expect(condition(status, "Succeeded")).toMatchObject({ status: "Unknown", reason: "Queued" });
      }
      expect((await statusOf(rb, "blocker")).phase).toBe("Building");
    },
    START_MS + 60_000,
  );

  it("cancels the running build: Cancelled, its Job and its pod gone, and the first queued starts", async () => {
    expect(await buildPodNames(rb, "blocker")).toHaveLength(1);
    await mergePatch(rb.client, ARTIFACT_BUILDS, rb.namespace, "blocker", { spec: { cancel: true } });
    const status = await buildUntil(rb, "blocker", "Cancelled", (s) => s.phase === "Cancelled", 30_000);
    expect(condition(status, "Succeeded")).toMatchObject({ status: "False", reason: "Cancelled" });
    await waitFor(
      "the blocker's Job to be gone",
      async () => (await getObject(rb.client, JOBS, rb.namespace, buildJobName("blocker"))) === undefined,
    );
    // A cancelled build stays cancelled (the CRD's transition rule).
    const back = await kubectl([
      "patch",
      "artifactbuild",
      "blocker",
      "-n",
      rb.namespace,
      "--type=merge",
      "-p",
      '{"spec":{"cancel":false}}',
    ]);
    expect(back.stderr).toContain("stays cancelled");
    // The pod goes once its containers stopped (within the 30 s grace period).
    await waitFor(
      "the blocker's pod to be gone",
      async () => (await buildPodNames(rb, "blocker")).length === 0,
      {
        timeoutMs: 90_000,
        intervalMs: 1000,
      },
    );
  }, 150_000);

  it(
    "then runs the queued builds one at a time in queue order",
    async () => {
      const statuses: ArtifactBuildStatus[] = [];
      for (const name of QUEUED) statuses.push(await buildFinished(rb, name, START_MS));
      for (const [index, status] of statuses.entries()) {
        expect(status.phase, condition(status, "Succeeded")?.message).toBe("Succeeded");
        expect(status.commitSha).toBe(rb.commits.work?.quick);
        expect(status.image).toBe(`${podRegistry()}/${rb.namespace}/work@${status.imageDigest}`);
        expect(condition(status, "Ready")).toMatchObject({ status: "True" });
        const previous = statuses[index - 1];
        // Each started once the previous one had ended (times in seconds: equal is in order).
        if (previous)
          expect(Date.parse(status.startTime ?? "")).toBeGreaterThanOrEqual(
            Date.parse(previous.completionTime ?? ""),
          );
      }
      const events = await eventsAbout(rb.client, rb.namespace, "q1");
      expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(["Queued", "Started", "Succeeded"]));
    },
    3 * START_MS,
  );

  it("fails a build that outlives timeoutSeconds with DeadlineExceeded, and stops its pod", async () => {
    await createBuild("slow", "sleep", 60);
    await buildUntil(rb, "slow", "Building", (s) => s.phase === "Building", 30_000);
    const status = await buildFinished(rb, "slow", 180_000);
    expect(status.phase).toBe("Failed");
    expect(condition(status, "Succeeded")).toMatchObject({ status: "False", reason: "DeadlineExceeded" });
    expect(condition(status, "Succeeded")?.message).toContain("spec.timeoutSeconds (60 s)");
    await waitFor(
      "the slow build's pod to be gone",
      async () => (await buildPodNames(rb, "slow")).length === 0,
      {
        timeoutMs: 90_000,
        intervalMs: 1000,
      },
    );
  }, 300_000);
});
