/**
 * The DarwinJob's status from what the Ray head reports (or from why the job could not reach it). Pure.
 */
import type { z } from "zod";
import type { DarwinJob } from "../../crds/src/darwin-job.ts";
import { type Condition, type ConditionUpdate, kubeTime, setCondition } from "../../operator/conditions.ts";
import { logTail, type RayJobInfo } from "../shared/ray-dashboard.ts";

export type DarwinJobStatus = z.output<typeof DarwinJob.status>;
export type RayJobStatus = NonNullable<DarwinJobStatus["jobStatus"]>;

/** Lines of the job's log kept in status.logTail. */
export const LOG_TAIL_LINES = 20;

export const TERMINAL: readonly RayJobStatus[] = ["SUCCEEDED", "FAILED", "STOPPED"];

export const isTerminal = (status: unknown): boolean => TERMINAL.includes(status as RayJobStatus);

/** What the reconcile learnt: Ray's view of the job, or why it could not be had. */
export type JobObservation =
  | { kind: "ray"; info: RayJobInfo; logs: string }
  | { kind: "blocked"; reason: string; message: string };

const READY: Record<RayJobStatus, Omit<ConditionUpdate, "type" | "message"> & { message: string }> = {
  PENDING: { status: "False", reason: "Pending", message: "Ray has not started the job yet." },
  RUNNING: { status: "False", reason: "Running", message: "The job is running." },
  SUCCEEDED: { status: "True", reason: "Succeeded", message: "The job finished successfully." },
  FAILED: { status: "False", reason: "Failed", message: "The job failed." },
  STOPPED: { status: "False", reason: "Stopped", message: "The job was stopped." },
};

const rayTime = (ms: number | null | undefined) => (ms ? kubeTime(new Date(ms)) : undefined);

export function computeDarwinJobStatus(
  previous: DarwinJobStatus,
  observation: JobObservation,
  context: { submissionId: string; dashboardURL: string; generation: number | undefined; now: Date },
): DarwinJobStatus {
  const { generation, now } = context;
  const conditions: Condition[] | undefined = previous.conditions;
  if (observation.kind === "blocked") {
    const ready = {
      type: "Ready",
      status: "False" as const,
      reason: observation.reason,
      message: observation.message,
    };
    return {
      ...previous,
      ...(generation !== undefined && { observedGeneration: generation }),
      conditions: setCondition(conditions, ready, { now, observedGeneration: generation }),
    };
  }
  const { info, logs } = observation;
  const ready = READY[info.status];
  const message = info.message ?? undefined;
  const startTime = rayTime(info.start_time);
  const endTime = rayTime(info.end_time);
  return {
    jobStatus: info.status,
    submissionId: context.submissionId,
    dashboardURL: context.dashboardURL,
    ...(message && { message }),
    ...(startTime && { startTime }),
    ...(endTime && { endTime }),
    logTail: logTail(logs, LOG_TAIL_LINES),
    ...(generation !== undefined && { observedGeneration: generation }),
    conditions: setCondition(
      conditions,
      { type: "Ready", ...ready, message: info.status === "FAILED" && message ? message : ready.message },
      { now, observedGeneration: generation },
    ),
  };
}
