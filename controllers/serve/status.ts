/**
 * The status of a Serve from what the reconcile found (environment, model resolution, revisions) and what
 * its Deployment or RayService reports. Pure: the same inputs give the same status, so an unchanged Serve
 * costs no status write.
 */
import { z } from "zod";
import type { Condition } from "../../crds/src/index.ts";
import { setCondition } from "../../operator/conditions.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { CapacityClass } from "../shared/placement.ts";
import { FEATURES_READY, type FeaturesCondition } from "./features.ts";
import type { Resolution } from "./resolve.ts";
import type { Revisions, ServeStatus } from "./revisions.ts";

export type Phase = NonNullable<ServeStatus["phase"]>;
type ConditionInput = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

const kubeCondition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

const DeploymentView = z.looseObject({
  metadata: z.looseObject({ generation: z.number().optional() }),
  spec: z.looseObject({ replicas: z.number().optional() }).optional(),
  status: z
    .looseObject({
      observedGeneration: z.number().optional(),
      replicas: z.number().optional(),
      updatedReplicas: z.number().optional(),
      availableReplicas: z.number().optional(),
      conditions: z.array(kubeCondition).optional(),
    })
    .optional(),
});

const RayServiceView = z.looseObject({
  status: z
    .looseObject({
      serviceStatus: z.string().optional(),
      conditions: z.array(kubeCondition).optional(),
    })
    .optional(),
});

/** How the rollout of the current revision stands. */
export interface Rollout {
  state: "available" | "progressing" | "failed";
  ready: number;
  desired: number;
  message: string;
}

/** The rollout of a Deployment whose template is the current revision's. */
export function observeDeployment(deployment: KubeObject | undefined, revision: number): Rollout {
  const view = DeploymentView.safeParse(deployment ?? {}).data;
  const status = view?.status;
  const desired = view?.spec?.replicas ?? 1;
  const ready = status?.availableReplicas ?? 0;
  const updated = status?.updatedReplicas ?? 0;
  const current = (status?.observedGeneration ?? -1) >= (view?.metadata.generation ?? 0);
  const progressing = status?.conditions?.find((c) => c.type === "Progressing");
  if (!deployment || !current) {
    return { state: "progressing", ready, desired, message: `Revision ${revision} is being rolled out.` };
  }
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") {
    return {
      state: "failed",
      ready,
      desired,
      message: `Revision ${revision} did not become available within its deadline (${updated} of ${desired} new replicas available: ${progressing.message ?? "no message"})`,
    };
  }
  const total = status?.replicas ?? 0;
  if (updated >= desired && ready >= desired && total <= desired && desired > 0) {
    return {
      state: "available",
      ready,
      desired,
      message: `Revision ${revision} is available (${ready} of ${desired} replicas).`,
    };
  }
  return {
    state: "progressing",
    ready,
    desired,
    message: `Revision ${revision} is rolling out: ${updated} of ${desired} replicas updated, ${ready} available.`,
  };
}

/** The rollout of a RayService: KubeRay's Ready condition, or its serviceStatus on older versions. */
export function observeRayService(
  rayService: KubeObject | undefined,
  revision: number,
  replicas: number,
): Rollout {
  const status = RayServiceView.safeParse(rayService ?? {}).data?.status;
  const ready = status?.conditions?.find((c) => c.type === "Ready");
  const running = ready ? ready.status === "True" : status?.serviceStatus === "Running";
  if (running)
    return {
      state: "available",
      ready: replicas,
      desired: replicas,
      message: `Revision ${revision} is serving on Ray Serve.`,
    };
  const detail = ready?.message ?? status?.serviceStatus ?? "the Ray cluster is starting";
  return {
    state: "progressing",
    ready: 0,
    desired: replicas,
    message: `Revision ${revision} is starting on Ray Serve: ${detail}.`,
  };
}

/** What the reconcile found. */
export interface ServeObservation {
  generation?: number | undefined;
  previousStatus?: unknown;
  now: Date;
  /** Something that stops the Serve from being deployed at all (InvalidSpec, EnvironmentNotFound). */
  blocker?: { reason: string; message: string } | undefined;
  /** Undefined when the Serve names no model. */
  resolution?: Resolution | undefined;
  /** The pinned model of the last successful resolution, for status.resolvedModel. */
  resolvedModel?: ServeStatus["resolvedModel"];
  revisions: Revisions;
  rollout?: Rollout | undefined;
  capacity?: CapacityClass | undefined;
  url?: string | undefined;
  /** FeaturesReady (features.ts); undefined when the Serve reads no feature groups. */
  features?: FeaturesCondition | undefined;
}

/** The Ready reason of a Serve whose spec.artifactBuildRef names a build that has not succeeded yet. */
export const WAITING_FOR_BUILD = "WaitingForBuild";

/** Failures that pass by themselves (an MLflow back up, a build that finishes): phase Resolving, not Failed. */
const WAITING_REASONS = new Set(["MLflowUnavailable", WAITING_FOR_BUILD]);

export function computeServeStatus(o: ServeObservation): ServeStatus {
  const previous = PreviousStatus.safeParse(o.previousStatus ?? {});
  let conditions = previous.success ? previous.data.conditions : undefined;
  const at = { now: o.now, observedGeneration: o.generation };
  const { current, previous: before } = o.revisions;

  let phase: Phase;
  let ready: ConditionInput;
  if (o.blocker) {
    phase = "Failed";
    ready = { type: "Ready", status: "False", ...o.blocker };
  } else if (!o.resolution) {
    phase = "Undeployed";
    ready = {
      type: "Ready",
      status: "False",
      reason: "WaitingForModel",
      message:
        "Waiting for a model: nothing runs until spec.model.uri is set (hermes deploy-model --serve-name <name> --model-uri ...).",
    };
  } else if (!o.resolution.ok && !current) {
    phase = WAITING_REASONS.has(o.resolution.reason) ? "Resolving" : "Failed";
    ready = { type: "Ready", status: "False", reason: o.resolution.reason, message: o.resolution.message };
  } else {
    const rollout = o.rollout ?? { state: "progressing", ready: 0, desired: 0, message: "Rolling out." };
    if (rollout.state === "available") {
      phase = "Ready";
      ready = { type: "Ready", status: "True", reason: "Available", message: rollout.message };
    } else if (rollout.state === "failed") {
      phase = "Failed";
      const fallback = before
        ? ` Revision ${before.number} (${before.modelURI}) keeps serving; hermes rollback returns to it.`
        : " No earlier revision was available.";
      ready = {
        type: "Ready",
        status: "False",
        reason: "RolloutFailed",
        message: `${sentence(rollout.message)}${fallback}`,
      };
    } else {
      phase = "Deploying";
      ready = { type: "Ready", status: "False", reason: "RollingOut", message: rollout.message };
    }
  }
  conditions = setCondition(conditions, ready, at);
  if (o.resolution) {
    const resolved: ConditionInput = o.resolution.ok
      ? {
          type: "ModelResolved",
          status: "True",
          reason: "Resolved",
          message: `Resolved to ${o.resolution.model.servedURI}.`,
        }
      : {
          type: "ModelResolved",
          status: "False",
          reason: o.resolution.reason,
          message: current
            ? `${sentence(o.resolution.message)} Revision ${current.number} (${current.modelURI}) is left as it is.`
            : o.resolution.message,
        };
    conditions = setCondition(conditions, resolved, at);
  } else {
    conditions = conditions?.filter((c) => c.type !== "ModelResolved");
  }
  if (o.features) conditions = setCondition(conditions, o.features, at);
  else conditions = conditions?.filter((c) => c.type !== FEATURES_READY);

  return {
    phase,
    ...(o.url !== undefined && o.resolution && { url: o.url }),
    ...(o.capacity !== undefined && { capacity: o.capacity }),
    ...(o.resolvedModel !== undefined && { resolvedModel: o.resolvedModel }),
    ...(o.rollout && { replicas: { ready: o.rollout.ready, desired: o.rollout.desired } }),
    ...(current && { revision: current.number, currentRevision: current }),
    ...(before && { previousRevision: before }),
    ...(o.generation !== undefined && { observedGeneration: o.generation }),
    conditions: conditions ?? [],
  };
}

/** A message as a sentence: MLflow's own messages end without a full stop. */
const sentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

const PreviousStatus = z.looseObject({
  conditions: z
    .array(
      z.object({
        type: z.string(),
        status: z.enum(["True", "False", "Unknown"]),
        reason: z.string(),
        message: z.string(),
        lastTransitionTime: z.string(),
        observedGeneration: z.number().optional(),
      }),
    )
    .optional(),
});
