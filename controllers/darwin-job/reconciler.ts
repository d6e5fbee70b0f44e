/**
 * The DarwinJob controller: submits the job to its DarwinCluster's Ray head through the Ray Jobs REST API,
 * mirrors Ray's status, times and log tail into the job's status while it runs, and stops it in Ray when
 * the DarwinJob is deleted (finalizer).
 */
import { STOP_ANNOTATION } from "../../crds/src/darwin-job.ts";
import { DarwinCluster, DarwinJob } from "../../crds/src/index.ts";
import {
  type CacheReader,
  type ControllerDefinition,
  type ReconcileContext,
  TerminalError,
} from "../../operator/controller.ts";
import { isPlainObject, type JsonObject } from "../../operator/json.ts";
import { type KubeObject, objectKey } from "../../operator/resource.ts";
import { jupyterName } from "../darwin-cluster/render/jupyter.ts";
import { rayClusterName } from "../darwin-cluster/render/ray-cluster.ts";
import {
  type ClusterEndpoints,
  clusterHttpOf,
  clusterHttpRules,
  DEFAULT_ENDPOINTS,
  endpointsOf,
} from "../shared/endpoints.ts";
import { RayDashboardClient, RayDashboardError, type RayRuntimeEnv } from "../shared/ray-dashboard.ts";
import { darwinResource } from "../shared/resource-types.ts";
import { computeDarwinJobStatus, type DarwinJobStatus, isTerminal, type JobObservation } from "./status.ts";

export const DARWIN_JOBS = darwinResource(DarwinJob);
const DARWIN_CLUSTERS = darwinResource(DarwinCluster);

type DarwinJobSpec = ReturnType<typeof DarwinJob.spec.parse>;

export interface DarwinJobControllerOptions {
  /**
   * Where each cluster's Ray dashboard is (the configuration's clusterEndpoints).
   * @default DEFAULT_ENDPOINTS (the head Service, <raycluster>-head-svc.<namespace>.svc:8265)
   */
  endpoints?: ClusterEndpoints;
  /**
   * How often a job that has not ended is read again from Ray, in milliseconds.
   * @default 5000
   */
  pollIntervalMs?: number;
}

export function createDarwinJobController(options: DarwinJobControllerOptions = {}): ControllerDefinition {
  const endpoints = options.endpoints ?? DEFAULT_ENDPOINTS;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  return {
    name: "darwinjob",
    for: DARWIN_JOBS,
    // A cluster created, resumed or suspended wakes the jobs that run on it.
    watches: [{ type: DARWIN_CLUSTERS, map: jobsOnCluster }],
    rbac: clusterHttpRules(endpoints),
    reconcile: (ctx) => reconcileDarwinJob(ctx, endpoints, pollIntervalMs),
    finalize: (ctx) => stopDarwinJob(ctx, endpoints),
  };
}

/** The jobs in the cluster's namespace whose spec.cluster names it. */
export function jobsOnCluster(cluster: KubeObject, cache: CacheReader): string[] {
  return cache
    .list(DARWIN_JOBS, cluster.metadata.namespace)
    .filter((job) => isPlainObject(job.spec) && job.spec.cluster === cluster.metadata.name)
    .map((job) => objectKey(job.metadata));
}

/** The submission id: the spec's, or one derived from the object, the same on every reconcile. */
export function submissionIdOf(job: KubeObject, spec: Pick<DarwinJobSpec, "submissionId">): string {
  const uid = (job.metadata.uid ?? "").slice(0, 8);
  return spec.submissionId ?? `darwin-${job.metadata.namespace}-${job.metadata.name}-${uid}`;
}

/** The runtime_env in Ray's field names. */
export function rayRuntimeEnv(spec: DarwinJobSpec): RayRuntimeEnv | undefined {
  const env = spec.runtimeEnv;
  if (!env) return undefined;
  return {
    ...(env.pip && { pip: env.pip }),
    ...(env.workingDir && { working_dir: env.workingDir }),
    ...(env.envVars && { env_vars: Object.fromEntries(env.envVars.map((v) => [v.name, v.value])) }),
  };
}

function dashboardOf(ctx: ReconcileContext, endpoints: ClusterEndpoints, cluster: string): string {
  return endpointsOf(endpoints, {
    namespace: ctx.object.metadata.namespace ?? "default",
    rayCluster: rayClusterName(cluster),
    jupyter: jupyterName(cluster),
  }).rayDashboard;
}

/** The client of a cluster's Ray dashboard, reached as the configuration says. */
function dashboardClient(
  ctx: ReconcileContext,
  endpoints: ClusterEndpoints,
  url: string,
): RayDashboardClient {
  return new RayDashboardClient(url, clusterHttpOf(endpoints, ctx.client));
}

async function reconcileDarwinJob(
  ctx: ReconcileContext,
  endpoints: ClusterEndpoints,
  pollIntervalMs: number,
) {
  const job = ctx.object;
  const parsed = DarwinJob.spec.safeParse(job.spec);
  if (!parsed.success)
    throw new TerminalError("InvalidSpec", `the spec is not a valid DarwinJob spec: ${parsed.error.message}`);
  const spec = parsed.data;
  const previous = (isPlainObject(job.status) ? job.status : {}) as DarwinJobStatus;
  // An ended job is history: Ray is not asked again.
  if (isTerminal(previous.jobStatus)) return undefined;

  const submissionId = submissionIdOf(job, spec);
  const dashboardURL = dashboardOf(ctx, endpoints, spec.cluster);
  const observation = await observe(ctx, spec, submissionId, dashboardClient(ctx, endpoints, dashboardURL));
  const status = computeDarwinJobStatus(previous, observation, {
    submissionId,
    dashboardURL,
    generation: job.metadata.generation,
    now: ctx.now(),
  });
  await ctx.updateStatus(status as JsonObject);
  recordTransition(ctx, previous, status, observation);
  if (observation.kind === "blocked" && observation.reason !== "DashboardUnreachable") return undefined;
  return isTerminal(status.jobStatus) ? undefined : { requeueAfterMs: pollIntervalMs };
}

/** Reads the job from Ray, submitting it first if the head does not know it. */
async function observe(
  ctx: ReconcileContext,
  spec: DarwinJobSpec,
  submissionId: string,
  ray: RayDashboardClient,
): Promise<JobObservation> {
  const dashboardURL = ray.url;
  const namespace = ctx.object.metadata.namespace;
  const cluster = ctx.cached(DARWIN_CLUSTERS, namespace, spec.cluster);
  if (!cluster)
    return {
      kind: "blocked",
      reason: "ClusterNotFound",
      message: `DarwinCluster "${spec.cluster}" does not exist in namespace ${namespace}; create it or set spec.cluster to an existing one (kubectl get darwinclusters -n ${namespace}).`,
    };
  if (isPlainObject(cluster.spec) && cluster.spec.suspend === true)
    return {
      kind: "blocked",
      reason: "ClusterSuspended",
      message: `DarwinCluster "${spec.cluster}" is suspended; the job is submitted once it runs again (set its spec.suspend to false).`,
    };
  try {
    let info = await ray.getJob(submissionId);
    const stopRequested = ctx.object.metadata.annotations?.[STOP_ANNOTATION] === "true";
    if (!info && stopRequested)
      return {
        kind: "blocked",
        reason: "StopRequested",
        message: `The job was stopped (annotation ${STOP_ANNOTATION}) before it was submitted; nothing runs.`,
      };
    if (info && stopRequested && !isTerminal(info.status)) {
      await ray.stopJob(submissionId);
      ctx.log.info({ submissionId }, "Stopped Ray job on request");
      info = (await ray.getJob(submissionId)) ?? info;
    }
    if (!info) {
      await ray.submitJob({
        submissionId,
        entrypoint: spec.entrypoint,
        ...withRuntimeEnv(rayRuntimeEnv(spec)),
        metadata: { "darwin.dreamhorizon.org/job": objectKey(ctx.object.metadata) },
      });
      ctx.log.info({ submissionId, dashboardURL }, "Submitted Ray job");
      ctx.event({
        type: "Normal",
        reason: "Submitted",
        action: "Submit",
        note: `Submitted to ${dashboardURL} as ${submissionId}.`,
      });
      info = await ray.getJob(submissionId);
      if (!info)
        throw new RayDashboardError(`the Ray head does not know job ${submissionId} it just accepted`);
    }
    return { kind: "ray", info, logs: await ray.jobLogs(submissionId) };
  } catch (error) {
    if (!(error instanceof RayDashboardError)) throw error;
    return {
      kind: "blocked",
      reason: "DashboardUnreachable",
      message: `The Ray dashboard of DarwinCluster "${spec.cluster}" did not answer: ${error.message}; retrying.`,
    };
  }
}

const withRuntimeEnv = (env: RayRuntimeEnv | undefined) => (env ? { runtimeEnv: env } : {});

/** An Event when the job starts or ends, or cannot be run. */
function recordTransition(
  ctx: ReconcileContext,
  previous: DarwinJobStatus,
  status: DarwinJobStatus,
  observation: JobObservation,
): void {
  if (observation.kind === "blocked") {
    const before = previous.conditions?.find((c) => c.type === "Ready")?.reason;
    if (before !== observation.reason)
      ctx.event({ type: "Warning", reason: observation.reason, action: "Submit", note: observation.message });
    return;
  }
  if (status.jobStatus === previous.jobStatus) return;
  const events: Partial<Record<NonNullable<DarwinJobStatus["jobStatus"]>, ["Normal" | "Warning", string]>> = {
    RUNNING: ["Normal", "The Ray job is running."],
    SUCCEEDED: ["Normal", "The Ray job finished successfully."],
    FAILED: ["Warning", `The Ray job failed: ${status.message ?? "see status.logTail"}`],
    STOPPED: ["Normal", "The Ray job was stopped."],
  };
  const event = status.jobStatus && events[status.jobStatus];
  if (event) ctx.event({ type: event[0], reason: status.jobStatus ?? "", action: "Observe", note: event[1] });
}

/** On deletion: a job that has not ended is stopped in Ray. */
async function stopDarwinJob(ctx: ReconcileContext, endpoints: ClusterEndpoints): Promise<void> {
  const job = ctx.object;
  const parsed = DarwinJob.spec.safeParse(job.spec);
  const status = (isPlainObject(job.status) ? job.status : {}) as DarwinJobStatus;
  if (!parsed.success || isTerminal(status.jobStatus)) return;
  const cluster = ctx.cached(DARWIN_CLUSTERS, job.metadata.namespace, parsed.data.cluster);
  // Without a running cluster there is no Ray job left to stop.
  if (!cluster || (isPlainObject(cluster.spec) && cluster.spec.suspend === true)) return;
  const ray = dashboardClient(ctx, endpoints, dashboardOf(ctx, endpoints, parsed.data.cluster));
  // The derived id, not status.submissionId: a submission whose status write was lost is stopped too.
  const submissionId = submissionIdOf(job, parsed.data);
  const stopped = await ray.stopJob(submissionId);
  ctx.log.info({ submissionId, stopped }, stopped ? "Stopped Ray job" : "Found no Ray job to stop");
}
