/**
 * The ArtifactBuild's status: what its build Job and pod report (observeBuildJob), and the status that
 * follows from it (computeArtifactBuildStatus). Pure.
 */
import type { z } from "zod";
import type { ArtifactBuild } from "../../crds/src/index.ts";
import { type Condition, type ConditionUpdate, kubeTime, setCondition } from "../../operator/conditions.ts";
import { BUILD_CONTAINER } from "./render/build-job.ts";

export type ArtifactBuildStatus = z.output<typeof ArtifactBuild.status>;
export type BuildPhase = NonNullable<ArtifactBuildStatus["phase"]>;

export const FINISHED: readonly BuildPhase[] = ["Succeeded", "Failed", "Cancelled"];
export const isFinished = (phase: unknown): boolean => FINISHED.includes(phase as BuildPhase);

/** Lines of the build log kept in status.logTail. */
export const LOG_TAIL_LINES = 20;

/** The parts of a Job and its pods the status reads (client-node's V1Job and V1Pod fit). */
export interface JobView {
  metadata?: { name?: string };
  spec?: { activeDeadlineSeconds?: number };
  status?: {
    startTime?: Date | string;
    completionTime?: Date | string;
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: Date | string;
    }>;
  };
}
export interface PodView {
  status?: {
    containerStatuses?: Array<{
      name: string;
      state?: { terminated?: { exitCode: number; message?: string; reason?: string } };
    }>;
  };
}

/** What the reconcile found. */
export type BuildObservation =
  | { kind: "waiting"; position: number }
  | { kind: "cancelled" }
  | { kind: "building"; startTime?: string | undefined }
  | { kind: "succeeded"; commit: string; digest: string; completionTime?: string | undefined }
  | {
      kind: "failed";
      reason: string;
      message: string;
      step?: string | undefined;
      logTail?: string | undefined;
      completionTime?: string | undefined;
    };

const time = (value: Date | string | undefined): string | undefined =>
  value === undefined ? undefined : kubeTime(new Date(value));

/** The build container's termination message, from the pod that ran it (the newest with one). */
export function terminationMessage(pods: readonly PodView[]): string | undefined {
  for (const pod of [...pods].reverse()) {
    const build = pod.status?.containerStatuses?.find((c) => c.name === BUILD_CONTAINER);
    const message = build?.state?.terminated?.message;
    if (message) return message;
  }
  return undefined;
}

/**
 * The failing step and the end of the log from a failure message: the script's `failed: <what>` line,
 * then BuildKit's plain progress, where the step that failed is the one whose number has an ERROR line
 * (`#7 [2/3] RUN make` ... `#7 ERROR: ...`), also repeated after it as ` > [2/3] RUN make:`.
 */
export function parseBuildFailure(message: string): { what: string; step?: string; logTail: string } {
  const lines = message.replace(/\s+$/, "").split("\n");
  const first = /^failed: (.*)$/.exec(lines[0] ?? "")?.[1];
  const log = first === undefined ? lines : lines.slice(1);
  const errors = log.map((l) => /^#(\d+) ERROR: (.*)$/.exec(l)).filter((m) => m !== null);
  const error = errors.at(-1);
  let step = error && log.find((l) => l.startsWith(`#${error[1]} [`))?.slice(`#${error[1]} `.length);
  step ??= log.map((l) => /^ > (\[.*\] .*):$/.exec(l)?.[1]).findLast((s) => s !== undefined);
  return {
    what: error?.[2] ?? first ?? "the build failed",
    ...(step && { step }),
    logTail: log.slice(-LOG_TAIL_LINES).join("\n"),
  };
}

/** The outcome of a build Job: still building, or finished with its result from the termination message. */
export function observeBuildJob(job: JobView, pods: readonly PodView[]): BuildObservation {
  const conditions = job.status?.conditions ?? [];
  const isTrue = (type: string) => conditions.find((c) => c.type === type && c.status === "True");
  const complete = isTrue("Complete");
  const failed = isTrue("Failed");
  const completionTime = time(job.status?.completionTime) ?? time(failed?.lastTransitionTime);
  if (!complete && !failed) return { kind: "building", startTime: time(job.status?.startTime) };
  const message = terminationMessage(pods);
  if (failed?.reason === "DeadlineExceeded") {
    const seconds = job.spec?.activeDeadlineSeconds;
    const tail = message ? parseBuildFailure(message).logTail : undefined;
    return {
      kind: "failed",
      reason: "DeadlineExceeded",
      message: `The build ran longer than spec.timeoutSeconds (${seconds ?? "?"} s) and was stopped; raise timeoutSeconds or make the build faster.`,
      ...(tail && { logTail: tail }),
      completionTime,
    };
  }
  if (complete) {
    const result = parseResult(message);
    if (result) return { kind: "succeeded", ...result, completionTime };
    return {
      kind: "failed",
      reason: "NoResult",
      message: `The build Job completed but its container reported no commit and digest (termination message: ${JSON.stringify(message ?? "")}).`,
      completionTime,
    };
  }
  if (!message) {
    return {
      kind: "failed",
      reason: "BuildFailed",
      message: `The build Job failed (${failed?.reason ?? "Failed"}: ${failed?.message ?? "no message"}) and its pod left no log: kubectl describe job ${job.metadata?.name ?? ""}.`,
      completionTime,
    };
  }
  const failure = parseBuildFailure(message);
  return {
    kind: "failed",
    reason: "BuildFailed",
    message: failure.step
      ? `Step ${failure.step} failed: ${failure.what}`
      : `The build failed: ${failure.what}`,
    ...(failure.step && { step: failure.step }),
    logTail: failure.logTail,
    completionTime,
  };
}

function parseResult(message: string | undefined): { commit: string; digest: string } | undefined {
  if (!message) return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    const { commit, digest } = (parsed ?? {}) as { commit?: unknown; digest?: unknown };
    if (typeof commit === "string" && typeof digest === "string" && /^sha256:[0-9a-f]{64}$/.test(digest))
      return { commit, digest };
  } catch {
    return undefined;
  }
  return undefined;
}

export interface StatusContext {
  generation: number | undefined;
  now: Date;
  /** The output image without tag or digest (registry/repository). */
  repository: string;
  jobName: string;
  /** Bytes of the pushed image, when the registry told. */
  imageSize?: number | undefined;
}

type Outcome = Omit<ConditionUpdate, "type">;

export function computeArtifactBuildStatus(
  previous: ArtifactBuildStatus,
  observation: BuildObservation,
  context: StatusContext,
): ArtifactBuildStatus {
  const { generation, now } = context;
  const withConditions = (
    status: ArtifactBuildStatus,
    succeeded: Outcome,
    ready: Outcome = succeeded,
  ): ArtifactBuildStatus => {
    let conditions: Condition[] = setCondition(
      previous.conditions,
      { type: "Succeeded", ...succeeded },
      { now, observedGeneration: generation },
    );
    conditions = setCondition(
      conditions,
      { type: "Ready", ...ready },
      { now, observedGeneration: generation },
    );
    return { ...status, ...(generation !== undefined && { observedGeneration: generation }), conditions };
  };
  const started = previous.startTime;
  const finished = previous.completionTime ?? kubeTime(now);
  switch (observation.kind) {
    case "waiting": {
      const ahead = observation.position - 1;
      const message = `Waiting to start: position ${observation.position} in the build queue (${ahead} ${ahead === 1 ? "build starts" : "builds start"} first).`;
      return withConditions(
        { phase: "Queued", queuePosition: observation.position },
        { status: "Unknown", reason: "Queued", message },
        { status: "False", reason: "Queued", message },
      );
    }
    case "cancelled": {
      const message = "The build was cancelled (spec.cancel); its Job and pod were deleted.";
      return withConditions(
        {
          phase: "Cancelled",
          ...(started && { startTime: started }),
          completionTime: finished,
          ...(previous.jobName && { jobName: previous.jobName }),
        },
        { status: "False", reason: "Cancelled", message },
      );
    }
    case "building": {
      const message = `Building in Job ${context.jobName}: kubectl logs -f job/${context.jobName}`;
      return withConditions(
        {
          phase: "Building",
          startTime: started ?? observation.startTime ?? kubeTime(now),
          jobName: context.jobName,
        },
        { status: "Unknown", reason: "Building", message },
        { status: "False", reason: "Building", message },
      );
    }
    case "succeeded": {
      const image = `${context.repository}@${observation.digest}`;
      const size = context.imageSize ?? previous.imageSize;
      return withConditions(
        {
          phase: "Succeeded",
          startTime: started ?? kubeTime(now),
          completionTime: previous.completionTime ?? observation.completionTime ?? kubeTime(now),
          jobName: context.jobName,
          commitSha: observation.commit,
          imageDigest: observation.digest,
          image,
          ...(size !== undefined && { imageSize: size }),
        },
        {
          status: "True",
          reason: "Succeeded",
          message: `Built commit ${observation.commit} and pushed ${image}.`,
        },
      );
    }
    case "failed":
      return withConditions(
        {
          phase: "Failed",
          ...(started && { startTime: started }),
          completionTime: previous.completionTime ?? observation.completionTime ?? kubeTime(now),
          jobName: context.jobName,
          ...(observation.step && { failedStep: observation.step }),
          ...(observation.logTail && { logTail: observation.logTail }),
        },
        { status: "False", reason: observation.reason, message: observation.message },
      );
  }
}
