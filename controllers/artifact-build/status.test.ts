import { describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { BUILD_CONTAINER } from "./render/build-job.ts";
import {
  type ArtifactBuildStatus,
  type BuildObservation,
  computeArtifactBuildStatus,
  observeBuildJob,
  parseBuildFailure,
} from "./status.ts";

const NOW = new Date("2026-11-27T10:00:00Z");
const DIGEST = `sha256:${"0f".repeat(32)}`;
const CONTEXT = { generation: 1, now: NOW, repository: "127.0.0.1:25500/ml/iris", jobName: "iris-build" };

/** A BuildKit failure as the build script reports it: its line, then the end of buildctl's plain output. */
const FAILURE_MESSAGE = [
  "failed: buildctl build exited 1",
  "#4 [1/2] FROM docker.io/library/busybox:1.36",
  "#4 DONE 0.1s",
  "#5 [2/2] RUN echo compiling && exit 3",
  "#5 0.212 compiling",
  '#5 ERROR: process "/bin/sh -c echo compiling && exit 3" did not complete successfully: exit code: 3',
  "------",
  " > [2/2] RUN echo compiling && exit 3:",
  "0.212 compiling",
  "------",
  'error: failed to solve: process "/bin/sh -c echo compiling && exit 3" did not complete successfully: exit code: 3',
].join("\n");

const job = (conditions: Array<{ type: string; status: string; reason?: string }>, extra = {}) => ({
  metadata: { name: "iris-build" },
  spec: { activeDeadlineSeconds: 600 },
  status: { startTime: "2026-11-27T09:58:00Z", completionTime: "2026-11-27T09:59:00Z", conditions, ...extra },
});
const pod = (message: string, exitCode = 0) => ({
  status: { containerStatuses: [{ name: BUILD_CONTAINER, state: { terminated: { exitCode, message } } }] },
});

describe("observeBuildJob", () => {
  it("reads commit and digest from the build container's termination message", () => {
    const result = observeBuildJob(job([{ type: "Complete", status: "True" }]), [
      pod(JSON.stringify({ commit: "a".repeat(40), digest: DIGEST })),
    ]);
    expect(result).toEqual({
      kind: "succeeded",
      commit: "a".repeat(40),
      digest: DIGEST,
      completionTime: "2026-11-27T09:59:00Z",
    });
  });

  it("is still building while the Job has no final condition", () => {
    expect(observeBuildJob(job([{ type: "SuccessCriteriaMet", status: "True" }]), [])).toEqual({
      kind: "building",
      startTime: "2026-11-27T09:58:00Z",
    });
  });

  it("turns the Job's deadline into DeadlineExceeded naming timeoutSeconds", () => {
    const result = observeBuildJob(job([{ type: "Failed", status: "True", reason: "DeadlineExceeded" }]), []);
    expect(result).toMatchObject({ kind: "failed", reason: "DeadlineExceeded" });
    expect(result.kind === "failed" && result.message).toContain("spec.timeoutSeconds (600 s)");
  });

  it("names the failing step and keeps the end of the log", () => {
    const result = observeBuildJob(
      job([{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }]),
      [pod(FAILURE_MESSAGE, 1)],
    );
    expect(result).toMatchObject({
      kind: "failed",
      reason: "BuildFailed",
      step: "[2/2] RUN echo compiling && exit 3",
      message:
        'Step [2/2] RUN echo compiling && exit 3 failed: process "/bin/sh -c echo compiling && exit 3" did not complete successfully: exit code: 3',
    });
    expect(result.kind === "failed" && result.logTail).toContain("0.212 compiling");
  });

  it("says so when a completed Job reported no result", () => {
    expect(observeBuildJob(job([{ type: "Complete", status: "True" }]), [])).toMatchObject({
      kind: "failed",
      reason: "NoResult",
    });
  });
});

describe("parseBuildFailure", () => {
  it("keeps the script's own failure when BuildKit never ran", () => {
    expect(
      parseBuildFailure("failed: spec.source.git.revision v9 is not a branch, tag or full commit of x\n"),
    ).toEqual({
      what: "spec.source.git.revision v9 is not a branch, tag or full commit of x",
      logTail: "",
    });
  });

  it("reads a log the kubelet fell back to (no failed: line)", () => {
    expect(parseBuildFailure(FAILURE_MESSAGE.split("\n").slice(1).join("\n")).step).toBe(
      "[2/2] RUN echo compiling && exit 3",
    );
  });
});

describe("computeArtifactBuildStatus", () => {
  const compute = (observation: BuildObservation, previous: ArtifactBuildStatus = {}, imageSize?: number) =>
    computeArtifactBuildStatus(previous, observation, { ...CONTEXT, imageSize });

  it.each([
    [{ kind: "waiting", position: 2 }, "Queued", "Unknown", "Queued"],
    [{ kind: "building" }, "Building", "Unknown", "Building"],
    [{ kind: "succeeded", commit: "c", digest: DIGEST }, "Succeeded", "True", "Succeeded"],
    [{ kind: "failed", reason: "DeadlineExceeded", message: "m" }, "Failed", "False", "DeadlineExceeded"],
    [{ kind: "cancelled" }, "Cancelled", "False", "Cancelled"],
  ] as Array<[BuildObservation, string, string, string]>)(
    "%o gives phase %s, Succeeded=%s %s",
    (observation, phase, succeeded, reason) => {
      const status = compute(observation);
      expect(status.phase).toBe(phase);
      expect(findCondition(status.conditions, "Succeeded")).toMatchObject({ status: succeeded, reason });
      expect(findCondition(status.conditions, "Ready")?.status).toBe(
        phase === "Succeeded" ? "True" : "False",
      );
    },
  );

  it("shows the queue position only while queued", () => {
    const queued = compute({ kind: "waiting", position: 3 });
    expect(queued.queuePosition).toBe(3);
    expect(findCondition(queued.conditions, "Succeeded")?.message).toContain(
      "position 3 in the build queue (2 builds start first)",
    );
    expect(compute({ kind: "building" }, queued)).not.toHaveProperty("queuePosition");
  });

  it("records start and completion, commit, digest, image by digest and size", () => {
    const building = compute({ kind: "building", startTime: "2026-11-27T09:58:00Z" });
    const done = compute(
      { kind: "succeeded", commit: "c".repeat(40), digest: DIGEST, completionTime: "2026-11-27T09:59:00Z" },
      building,
      2048,
    );
    expect(done).toMatchObject({
      startTime: "2026-11-27T09:58:00Z",
      completionTime: "2026-11-27T09:59:00Z",
      commitSha: "c".repeat(40),
      imageDigest: DIGEST,
      image: `127.0.0.1:25500/ml/iris@${DIGEST}`,
      imageSize: 2048,
      jobName: "iris-build",
    });
  });

  it("keeps the failing step and log tail on failure", () => {
    const failed = compute({
      kind: "failed",
      reason: "BuildFailed",
      message: "m",
      step: "[2/2] RUN x",
      logTail: "t",
    });
    expect(failed).toMatchObject({ failedStep: "[2/2] RUN x", logTail: "t" });
  });

  it("is unchanged when recomputed from the same observation", () => {
    const first = compute({ kind: "waiting", position: 1 });
    expect(compute({ kind: "waiting", position: 1 }, first)).toEqual(first);
  });
});
