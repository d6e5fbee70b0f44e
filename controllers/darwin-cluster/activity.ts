/**
 * Idle auto-stop (`spec.inactiveTimeMinutes`): what counts as activity, read from the cluster's Ray
 * dashboard (jobs pending or running, actors alive) and its Jupyter server (`/api/status` last_activity,
 * busy kernels); the pure decision whether the cluster has been idle longer than its limit; and the step the
 * reconciler calls, which suspends an idle cluster by patching spec.suspend as a user would.
 */
import { z } from "zod";
import { DarwinCluster } from "../../crds/src/index.ts";
import {
  type Condition,
  type ConditionUpdate,
  findCondition,
  kubeTime,
  setCondition,
} from "../../operator/conditions.ts";
import type { ReconcileContext } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import { objectPath } from "../../operator/resource.ts";
import { type ClusterHttp, directHttp, safeJson } from "../shared/cluster-http.ts";
import { type ClusterEndpoints, clusterHttpOf, endpointsOf } from "../shared/endpoints.ts";
import { RayDashboardClient } from "../shared/ray-dashboard.ts";
import { darwinResource, SECRETS } from "../shared/resource-types.ts";
import { jupyterName, jupyterToken } from "./render/jupyter.ts";
import { type ClusterInput, rayClusterName } from "./render/ray-cluster.ts";
import type { DarwinClusterStatus } from "./status.ts";

export interface ActivityOptions {
  /** Where each cluster's Ray dashboard and Jupyter server are. */
  endpoints: ClusterEndpoints;
  /**
   * How often a running cluster with a limit is probed, in milliseconds (sooner when its limit ends first).
   * @default 60000
   */
  probeIntervalMs?: number;
}

/** What one probe saw, or why it saw nothing. */
export type Probe =
  | { ok: true; activeJobs: number; aliveActors: number; busyKernels: number; jupyterLastActivity?: Date }
  | { ok: false; error: string };

export interface IdleInput {
  /** spec.inactiveTimeMinutes; 0 never stops. */
  limitMinutes: number;
  /** status.lastActivityTime so far. */
  lastActivityTime: string | undefined;
  /** When the cluster last became Ready: starting it counts as activity. */
  runningSince: string | undefined;
  probe: Probe;
  now: Date;
}

export interface IdleDecision {
  lastActivityTime: string | undefined;
  /** The start of the idle stretch, when the cluster is idle. */
  idleSince?: Date;
  stop: boolean;
  /** The ActivityProbe condition. */
  probeCondition: ConditionUpdate;
  /** When to look again (the probe interval, or sooner when the limit ends first). */
  requeueAfterMs: number;
}

const latest = (...dates: (Date | undefined)[]): Date | undefined =>
  dates
    .filter((d): d is Date => d !== undefined && !Number.isNaN(d.getTime()))
    .reduce<Date | undefined>((a, b) => (a && a >= b ? a : b), undefined);

const asDate = (time: string | undefined) => (time ? new Date(time) : undefined);

/** Whether a running cluster has been idle longer than its limit. Pure. */
export function decideIdle(input: IdleInput, probeIntervalMs: number): IdleDecision {
  const { probe, now } = input;
  if (!probe.ok)
    // A failed probe says nothing about activity: the clock is left alone and the cluster keeps running.
    return {
      lastActivityTime: input.lastActivityTime,
      stop: false,
      probeCondition: {
        type: "ActivityProbe",
        status: "False",
        reason: "ProbeFailed",
        message: `Activity could not be read, so the cluster is not stopped for idleness: ${probe.error}`,
      },
      requeueAfterMs: probeIntervalMs,
    };
  const activity = [
    probe.activeJobs > 0 && `${probe.activeJobs} Ray job(s) pending or running`,
    probe.aliveActors > 0 && `${probe.aliveActors} actor(s) alive`,
    probe.busyKernels > 0 && `${probe.busyKernels} busy notebook kernel(s)`,
  ].filter((a): a is string => typeof a === "string");
  const active = activity.length > 0;
  const last = active
    ? now
    : latest(asDate(input.lastActivityTime), asDate(input.runningSince), probe.jupyterLastActivity);
  const lastActivityTime = last ? kubeTime(last) : undefined;
  const limitMs = input.limitMinutes * 60_000;
  const idleMs = last ? now.getTime() - new Date(lastActivityTime ?? "").getTime() : 0;
  const stop = !active && input.limitMinutes > 0 && last !== undefined && idleMs >= limitMs;
  return {
    lastActivityTime,
    ...(!active && last && { idleSince: new Date(lastActivityTime ?? "") }),
    stop,
    probeCondition: {
      type: "ActivityProbe",
      status: "True",
      reason: active ? "Active" : "Idle",
      message: active
        ? `Active: ${activity.join(", ")}.`
        : `No Ray job, actor or busy kernel; idle since ${lastActivityTime ?? "the start"}.`,
    },
    requeueAfterMs: Math.max(1_000, Math.min(probeIntervalMs, active ? probeIntervalMs : limitMs - idleMs)),
  };
}

const JupyterStatus = z.looseObject({ last_activity: z.string().optional() });
const JupyterKernels = z.array(z.looseObject({ execution_state: z.string().optional() }));

async function getJson<T>(http: ClusterHttp, url: string, schema: z.ZodType<T>, token?: string): Promise<T> {
  const answer = await http("GET", url, token ? { token } : {}).catch((error: Error) => {
    throw new Error(`GET ${url} failed: ${error.message}`);
  });
  if (answer.status < 200 || answer.status >= 300) throw new Error(`GET ${url} answered ${answer.status}`);
  const parsed = schema.safeParse(safeJson(answer.body));
  if (!parsed.success) throw new Error(`GET ${url} answered what is not a Jupyter server answer`);
  return parsed.data;
}

/** Reads activity from the Ray dashboard and, when there is one, the Jupyter server. Never throws. */
export async function probeActivity(
  urls: {
    rayDashboard: string;
    jupyter?: string;
    /** The Jupyter server's token (its Secret). */
    jupyterToken?: string;
  },
  http: ClusterHttp = directHttp,
): Promise<Probe> {
  try {
    const ray = new RayDashboardClient(urls.rayDashboard, http);
    const [jobs, aliveActors] = await Promise.all([ray.listJobs(), ray.aliveActors()]);
    const activeJobs = jobs.filter((j) => j.status === "PENDING" || j.status === "RUNNING").length;
    if (!urls.jupyter) return { ok: true, activeJobs, aliveActors, busyKernels: 0 };
    const base = urls.jupyter.replace(/\/+$/, "");
    const [status, kernels] = await Promise.all([
      // no_track_activity: the probe's own requests must not count as a user's activity.
      getJson(http, `${base}/api/status?no_track_activity=1`, JupyterStatus, urls.jupyterToken),
      getJson(http, `${base}/api/kernels?no_track_activity=1`, JupyterKernels, urls.jupyterToken),
    ]);
    const busyKernels = kernels.filter((k) => k.execution_state === "busy").length;
    const jupyterLastActivity = status.last_activity ? new Date(status.last_activity) : undefined;
    return {
      ok: true,
      activeJobs,
      aliveActors,
      busyKernels,
      ...(jupyterLastActivity && { jupyterLastActivity }),
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The reconciler's step for a cluster whose status was just computed: probes a Ready cluster with a limit,
 * records lastActivityTime and the ActivityProbe condition, and suspends it when idle too long (condition
 * IdleStopped, a Normal Event). Returns the status to write and when to look again.
 */
export async function checkActivity(
  ctx: ReconcileContext,
  cluster: ClusterInput,
  status: DarwinClusterStatus,
  options: ActivityOptions,
): Promise<{ status: DarwinClusterStatus; requeueAfterMs?: number }> {
  const now = ctx.now();
  const generation = ctx.object.metadata.generation;
  let conditions: Condition[] | undefined = status.conditions;
  const stoppedBefore = findCondition(conditions, "IdleStopped");
  // A cluster started again (by its user) is no longer idle-stopped.
  if (!cluster.spec.suspend && stoppedBefore?.status === "True")
    conditions = setCondition(
      conditions,
      { type: "IdleStopped", status: "False", reason: "Resumed", message: "The cluster was started again." },
      { now, observedGeneration: generation },
    );
  const ready = findCondition(conditions, "Ready");
  if (cluster.spec.inactiveTimeMinutes <= 0 || cluster.spec.suspend || status.phase !== "Ready")
    return { status: { ...status, ...(conditions && { conditions }) } };

  const namespace = cluster.metadata.namespace ?? "default";
  const urls = endpointsOf(options.endpoints, {
    namespace,
    rayCluster: rayClusterName(cluster.metadata.name),
    jupyter: jupyterName(cluster.metadata.name),
  });
  const token = jupyterToken(ctx.cached(SECRETS, namespace, jupyterName(cluster.metadata.name)));
  const probe = await probeActivity(
    {
      rayDashboard: urls.rayDashboard,
      ...(cluster.spec.jupyter.enabled && { jupyter: urls.jupyter, ...(token && { jupyterToken: token }) }),
    },
    clusterHttpOf(options.endpoints, ctx.client),
  );
  const decision = decideIdle(
    {
      limitMinutes: cluster.spec.inactiveTimeMinutes,
      lastActivityTime: status.lastActivityTime,
      runningSince: ready?.status === "True" ? ready.lastTransitionTime : undefined,
      probe,
      now,
    },
    options.probeIntervalMs ?? 60_000,
  );
  conditions = setCondition(conditions, decision.probeCondition, { now, observedGeneration: generation });
  const next: DarwinClusterStatus = {
    ...status,
    ...(decision.lastActivityTime && { lastActivityTime: decision.lastActivityTime }),
    conditions,
  };
  if (!decision.stop) return { status: next, requeueAfterMs: decision.requeueAfterMs };

  const since = decision.idleSince ? kubeTime(decision.idleSince) : "its start";
  const message = `Stopped after ${cluster.spec.inactiveTimeMinutes} minute(s) without activity: idle since ${since} (no Ray job, actor or busy kernel). Set spec.suspend to false to start it again.`;
  next.conditions = setCondition(
    conditions,
    { type: "IdleStopped", status: "True", reason: "Idle", message },
    { now, observedGeneration: generation },
  );
  // The status first: the spec patch changes the resourceVersion a later status write would be checked against.
  await ctx.updateStatus(next as JsonObject);
  await ctx.client.requestObject({
    method: "PATCH",
    path: objectPath(darwinResource(DarwinCluster), ctx.object),
    contentType: "application/merge-patch+json",
    body: { spec: { suspend: true } },
  });
  ctx.log.info(
    { idleSince: since, limitMinutes: cluster.spec.inactiveTimeMinutes },
    "Suspended idle cluster",
  );
  ctx.event({ type: "Normal", reason: "IdleStopped", action: "Suspend", note: message });
  return { status: next };
}
