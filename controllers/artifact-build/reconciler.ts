/**
 * The ArtifactBuild controller: keeps the build queue (cluster-wide and per-namespace limits), starts a
 * queued build as a BuildKit Job when its turn comes, reports the Job's outcome (commit, digest and size,
 * or the failing step and the end of the log), cancels on spec.cancel, and deletes finished builds once
 * they are old enough and not among the last of their Serve.
 */
import { ArtifactBuild } from "../../crds/src/index.ts";
import { MANAGED_BY_SELECTOR } from "../../operator/apply.ts";
import {
  type CacheReader,
  type ControllerDefinition,
  type ReconcileContext,
  type ReconcileResult,
  TerminalError,
} from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import { type KubeObject, objectKey } from "../../operator/resource.ts";
import { deleteOwned } from "../shared/children.ts";
import { darwinResource, JOBS } from "../shared/resource-types.ts";
import { type ArtifactBuildsConfig, DEFAULT_ARTIFACT_BUILDS } from "./config.ts";
import { imageRepository, parseImageReference } from "./image-reference.ts";
import { planQueue, type QueueEntry } from "./queue.ts";
import { imageSize } from "./registry.ts";
import {
  BUILD_LABEL,
  type BuildSpec,
  buildJobName,
  renderBuildJob,
  SERVE_LABEL,
} from "./render/build-job.ts";
import {
  type ArtifactBuildStatus,
  type BuildObservation,
  computeArtifactBuildStatus,
  isFinished,
  type JobView,
  observeBuildJob,
  type PodView,
} from "./status.ts";

export const ARTIFACT_BUILDS = darwinResource(ArtifactBuild);

export interface ArtifactBuildControllerOptions {
  /** @default the operator configuration's defaults (artifactBuilds) */
  builds?: ArtifactBuildsConfig;
  /** Bytes of a pushed image; tests pass their own. @default imageSize (the registry's manifest) */
  imageSize?: (image: string, digest: string, insecure: boolean) => Promise<number>;
}

export function createArtifactBuildController(
  options: ArtifactBuildControllerOptions = {},
): ControllerDefinition {
  const config = options.builds ?? DEFAULT_ARTIFACT_BUILDS;
  const sizeOf =
    options.imageSize ??
    ((image: string, digest: string, insecure: boolean) => imageSize(image, digest, { insecure }));
  return {
    name: "artifactbuild",
    for: ARTIFACT_BUILDS,
    owns: [JOBS],
    // Another client's change to a build (a new one, a cancel, a deletion) moves the queue: the waiting
    // builds are reconciled again (their positions, and the next to start), as are the finished builds of
    // the same Serve (the history kept). The end of a build is the Job controller's write to its Job (or
    // the Job's deletion), not this controller's status write, which the runtime does not wake it with: a
    // build Job's change wakes the waiting builds. The watch shares the owned Jobs' cache (same selector).
    watches: [
      { type: ARTIFACT_BUILDS, map: buildsAffectedBy },
      { type: JOBS, labelSelector: MANAGED_BY_SELECTOR, map: buildsWaitingOn },
    ],
    rbac: [
      // The build pod's termination message (the commit and digest, or the failure).
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    ],
    // One reconcile at a time: starting a build reads the queue from the cache and then changes it.
    workers: 1,
    reconcile: (ctx) => reconcileArtifactBuild(ctx, config, sizeOf),
  };
}

const phaseOf = (build: KubeObject): string | undefined =>
  ArtifactBuild.status.safeParse(build.status ?? {}).data?.phase;
const cancelled = (build: KubeObject): boolean =>
  (build.spec as { cancel?: unknown } | undefined)?.cancel === true;
/** Not started yet: neither finished, cancelled nor Building. */
const isWaiting = (build: KubeObject): boolean => {
  const phase = phaseOf(build);
  return !isFinished(phase) && !cancelled(build) && phase !== "Building";
};
/** A Job that ended (Complete or Failed): its build no longer holds a place among the running ones. */
const jobEnded = (job: KubeObject): boolean =>
  ((job as JobView).status?.conditions ?? []).some(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );

/** Waiting builds (their position may have moved) and the finished builds of the same Serve. */
export function buildsAffectedBy(build: KubeObject, cache: CacheReader): string[] {
  const serve = build.metadata.labels?.[SERVE_LABEL];
  return cache
    .list(ARTIFACT_BUILDS)
    .filter((other) => {
      if (other.metadata.uid === build.metadata.uid) return false;
      if (!isFinished(phaseOf(other))) return isWaiting(other);
      return (
        serve !== undefined &&
        other.metadata.namespace === build.metadata.namespace &&
        other.metadata.labels?.[SERVE_LABEL] === serve
      );
    })
    .map((other) => objectKey(other.metadata));
}

/**
 * The waiting builds of the cluster, when a build's Job changes: one that ended (or was deleted) frees its
 * place, so the next may start, before the build's own reconcile records the outcome.
 */
export function buildsWaitingOn(job: KubeObject, cache: CacheReader): string[] {
  if (job.metadata.labels?.[BUILD_LABEL] === undefined) return [];
  return cache
    .list(ARTIFACT_BUILDS)
    .filter(isWaiting)
    .map((build) => objectKey(build.metadata));
}

async function reconcileArtifactBuild(
  ctx: ReconcileContext,
  config: ArtifactBuildsConfig,
  sizeOf: (image: string, digest: string, insecure: boolean) => Promise<number>,
): Promise<ReconcileResult | undefined> {
  const object = ctx.object;
  const now = ctx.now();
  const parsed = ArtifactBuild.spec.safeParse(object.spec);
  if (!parsed.success) throw new TerminalError("InvalidSpec", parsed.error.message);
  const spec = parsed.data;
  const previous: ArtifactBuildStatus = ArtifactBuild.status.safeParse(object.status ?? {}).data ?? {};
  const namespace = object.metadata.namespace ?? "default";
  const jobName = buildJobName(object.metadata.name);
  const context = {
    generation: object.metadata.generation,
    now,
    repository: imageRepository(spec.output.image),
    jobName,
  };
  const write = async (observation: BuildObservation, size?: number) => {
    const status = computeArtifactBuildStatus(previous, observation, { ...context, imageSize: size });
    await ctx.updateStatus(status as JsonObject);
    recordTransition(ctx, previous, status);
    return status;
  };

  if (isFinished(previous.phase)) return retain(ctx, previous, config, now);

  const job = ctx.cached(JOBS, namespace, jobName);
  if (spec.cancel) {
    await deleteOwned(ctx, JOBS, jobName);
    return retain(ctx, await write({ kind: "cancelled" }), config, now);
  }

  if (!job) {
    if (previous.phase === "Building") {
      await write({
        kind: "failed",
        reason: "JobDeleted",
        message: `The build Job ${jobName} was deleted before it finished; create a new ArtifactBuild to build again.`,
      });
      return undefined;
    }
    const plan = planQueue(queueEntries(ctx), config);
    const key = objectKey(object.metadata);
    if (!plan.start.has(key)) {
      await write({ kind: "waiting", position: plan.positions.get(key) ?? 1 });
      return undefined;
    }
    const rendered = renderBuildJob(
      { metadata: { name: object.metadata.name, namespace }, spec },
      {
        image: config.image,
        insecureRegistries: config.insecureRegistries,
        nodeSelector: config.nodeSelector,
        resources: config.resources,
      },
    );
    const applied = await ctx.apply(JOBS, rendered as KubeObject);
    ctx.log.info({ job: jobName }, "Started build");
    await write(observeBuildJob(applied.object, []));
    return undefined;
  }

  const observation = await observe(ctx, job);
  if (observation.kind !== "succeeded") {
    await write(observation);
    return undefined;
  }
  const size = await sizeOfPushed(ctx, spec, observation.digest, config, sizeOf);
  return retain(ctx, await write(observation, size), config, now);
}

/**
 * The queue's entries from the cache: builds running (a Job that has not ended) and builds waiting (not
 * started). A build whose Job ended or is gone holds no place, even before its reconcile records the
 * outcome: the Job's change is what wakes the waiting builds (buildsWaitingOn).
 */
function queueEntries(ctx: ReconcileContext): QueueEntry[] {
  return ctx.list(ARTIFACT_BUILDS).flatMap((build): QueueEntry[] => {
    const phase = phaseOf(build);
    if (isFinished(phase) || cancelled(build) || build.metadata.deletionTimestamp) return [];
    const namespace = build.metadata.namespace ?? "default";
    const job = ctx.cached(JOBS, namespace, buildJobName(build.metadata.name));
    const entry = {
      key: objectKey(build.metadata),
      namespace,
      created: build.metadata.creationTimestamp ?? "",
    };
    if (job) return jobEnded(job) ? [] : [{ ...entry, state: "active" }];
    return phase === "Building" ? [] : [{ ...entry, state: "waiting" }];
  });
}

/** The Job's outcome; a finished Job's pods are listed for the build container's termination message. */
async function observe(ctx: ReconcileContext, job: KubeObject): Promise<BuildObservation> {
  const view = job as JobView;
  if (!jobEnded(job)) return observeBuildJob(view, []);
  const list = (await ctx.client.request({
    method: "GET",
    path: `/api/v1/namespaces/${job.metadata.namespace}/pods`,
    query: { labelSelector: `batch.kubernetes.io/job-name=${job.metadata.name}` },
  })) as { items?: PodView[] };
  return observeBuildJob(view, list.items ?? []);
}

async function sizeOfPushed(
  ctx: ReconcileContext,
  spec: BuildSpec,
  digest: string,
  config: ArtifactBuildsConfig,
  sizeOf: (image: string, digest: string, insecure: boolean) => Promise<number>,
): Promise<number | undefined> {
  const insecure = config.insecureRegistries.includes(parseImageReference(spec.output.image).registry);
  try {
    return await sizeOf(spec.output.image, digest, insecure);
  } catch (error) {
    // The build succeeded; a registry that will not say the size leaves imageSize unset.
    ctx.log.warn({ image: spec.output.image, digest, err: error }, "Could not read the pushed image's size");
    return undefined;
  }
}

/**
 * A finished build is deleted `finishedRetentionSeconds` after it finished. Builds of a Serve (its label) are
 * pruned together, from the reconcile of any of them: the newest `keepPerServe` finished ones stay, older
 * ones go once past their time (kpack's history limit). Otherwise the build is looked at again when the
 * next one is due.
 */
async function retain(
  ctx: ReconcileContext,
  status: ArtifactBuildStatus,
  config: ArtifactBuildsConfig,
  now: Date,
): Promise<ReconcileResult | undefined> {
  const object = ctx.object;
  const dueIn = (completionTime: string | undefined) =>
    Date.parse(completionTime ?? "") + config.finishedRetentionSeconds * 1000 - now.getTime();
  const serve = object.metadata.labels?.[SERVE_LABEL];
  const finished =
    serve === undefined
      ? [{ build: object, completionTime: status.completionTime }]
      : ctx
          .list(ARTIFACT_BUILDS, object.metadata.namespace)
          .filter((b) => b.metadata.labels?.[SERVE_LABEL] === serve && isFinished(phaseOf(b)))
          .map((build) => ({
            build,
            completionTime: ArtifactBuild.status.safeParse(build.status ?? {}).data?.completionTime,
          }))
          // Newest first; builds finished in the same second by creation, then name.
          .sort(
            (a, b) =>
              (b.completionTime ?? "").localeCompare(a.completionTime ?? "") ||
              (b.build.metadata.creationTimestamp ?? "").localeCompare(
                a.build.metadata.creationTimestamp ?? "",
              ) ||
              b.build.metadata.name.localeCompare(a.build.metadata.name),
          )
          .slice(config.keepPerServe);
  let next: number | undefined;
  for (const { build, completionTime } of finished) {
    const due = dueIn(completionTime);
    if (Number.isNaN(due)) continue;
    if (due > 0) {
      next = Math.min(next ?? due, due);
      continue;
    }
    const { namespace, name, uid } = build.metadata;
    await ctx.delete(ARTIFACT_BUILDS, namespace, name, uid);
    ctx.log.info({ build: name, finished: completionTime }, "Deleted finished build past its retention");
  }
  return next === undefined ? undefined : { requeueAfterMs: Math.min(next, 6 * 3600_000) };
}

/** An Event when the build starts, ends or is cancelled. */
function recordTransition(ctx: ReconcileContext, previous: ArtifactBuildStatus, status: ArtifactBuildStatus) {
  if (status.phase === previous.phase) return;
  const succeeded = status.conditions?.find((c) => c.type === "Succeeded");
  const note = succeeded?.message ?? "";
  switch (status.phase) {
    case "Queued":
      ctx.event({ type: "Normal", reason: "Queued", action: "Queue", note });
      break;
    case "Building":
      ctx.event({ type: "Normal", reason: "Started", action: "Build", note });
      break;
    case "Succeeded":
      ctx.event({ type: "Normal", reason: "Succeeded", action: "Build", note });
      break;
    case "Failed":
      ctx.event({ type: "Warning", reason: succeeded?.reason ?? "Failed", action: "Build", note });
      break;
    case "Cancelled":
      ctx.event({ type: "Normal", reason: "Cancelled", action: "Cancel", note });
      break;
  }
}
