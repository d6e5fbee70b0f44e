/**
 * The DarwinCluster controller: resolves the runtime, validates the spec with the webhook's rules, applies
 * the KubeRay RayCluster and the Jupyter Deployment and Service, and reports phase, URLs, workers and cost.
 */

import { randomBytes } from "node:crypto";
import {
  formatFieldErrors,
  lookupsFrom,
  type RuntimeRecord,
  resolveRuntime,
  runtimeRecords,
  validateDarwinCluster,
} from "../../api/validation/index.ts";
import { DarwinCluster, DarwinRuntime } from "../../crds/src/index.ts";
import { ApiError } from "../../operator/api-error.ts";
import { FIELD_MANAGER, withControllerReference, withManagedByLabel } from "../../operator/apply.ts";
import {
  type CacheReader,
  type ControllerDefinition,
  type ReconcileContext,
  TerminalError,
} from "../../operator/controller.ts";
import { isPlainObject, type JsonObject } from "../../operator/json.ts";
import { type KubeObject, objectKey, resourcePath } from "../../operator/resource.ts";
import { deleteOwned } from "../shared/children.ts";
import { clusterHttpRules } from "../shared/endpoints.ts";
import { darwinKey } from "../shared/labels.ts";
import {
  DEPLOYMENTS,
  darwinResource,
  PODS,
  RAY_CLUSTERS,
  SECRETS,
  SERVICES,
} from "../shared/resource-types.ts";
import { type ActivityOptions, checkActivity } from "./activity.ts";
import { type AlertsConfig, alertsConfig, evaluateAlerts, notifyAlerts } from "./alerts.ts";
import type { AutoscalerConfig } from "./autoscaler.ts";
import { type CapacityPrices, DEFAULT_PRICES } from "./prices.ts";
import {
  jupyterName,
  jupyterToken,
  renderJupyterDeployment,
  renderJupyterSecret,
  renderJupyterService,
} from "./render/jupyter.ts";
import { type ClusterInput, rayClusterName, renderRayCluster } from "./render/ray-cluster.ts";
import {
  type Blocker,
  computeDarwinClusterStatus,
  headPodCacheView,
  type PackagesFailure,
  type Phase,
  packagesFailure,
} from "./status.ts";

export const DARWIN_CLUSTERS = darwinResource(DarwinCluster);
export const DARWIN_RUNTIMES = darwinResource(DarwinRuntime);

export interface DarwinClusterControllerOptions {
  /**
   * Hourly prices per capacity class, for status.estimatedCostPerHour.
   * @default DEFAULT_PRICES (the configuration's capacityClasses when it sets none)
   */
  prices?: CapacityPrices;
  /**
   * Idle auto-stop: where to probe each cluster's activity (activity.ts).
   * @default undefined (spec.inactiveTimeMinutes is not acted on)
   */
  activity?: ActivityOptions;
  /**
   * Runtime and cost alert defaults, and the webhook they are posted to (alerts.ts).
   * @default alertsConfig's defaults (168 h, no cost limit, no webhook)
   */
  alerts?: AlertsConfig;
  /**
   * Resources of the Ray autoscaler beside each head (autoscaler.ts).
   * @default undefined (KubeRay's defaults)
   */
  autoscaler?: AutoscalerConfig | undefined;
}

export function createDarwinClusterController(
  options: DarwinClusterControllerOptions = {},
): ControllerDefinition {
  const prices = options.prices ?? DEFAULT_PRICES;
  const alerts = options.alerts ?? alertsConfig.parse(undefined);
  const secret = alerts.webhookSecret;
  return {
    name: "darwincluster",
    for: DARWIN_CLUSTERS,
    owns: [RAY_CLUSTERS, DEPLOYMENTS, SERVICES, SECRETS],
    watches: [
      // A runtime created, changed or removed re-reconciles the clusters that name it.
      { type: DARWIN_RUNTIMES, map: clustersUsingRuntime },
      // The head pods of Darwin's Ray clusters (KubeRay's pods carry the template's cluster label): a head
      // whose install step failed wakes its cluster, and checkPackages reads them from this cache.
      { type: PODS, labelSelector: HEAD_PODS_SELECTOR, map: clusterOfHeadPod },
    ],
    // The head pods' cache keeps what checkPackages reads, not whole pods.
    cacheTransforms: [{ type: PODS, transform: headPodCacheView }],
    rbac: [
      // The alert webhook's URL is read from its Secret when an alert is posted.
      ...(secret
        ? [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: [secret.name] }]
        : []),
      // Activity probes through the apiserver's service proxy, when configured so.
      ...(options.activity ? clusterHttpRules(options.activity.endpoints) : []),
    ],
    reconcile: (ctx) => reconcileDarwinCluster(ctx, prices, options.activity, alerts, options.autoscaler),
  };
}

/** One reconcile: runtime, validation, RayCluster, Jupyter, status. */
async function reconcileDarwinCluster(
  ctx: ReconcileContext,
  prices: CapacityPrices,
  activity: ActivityOptions | undefined,
  alerts: AlertsConfig,
  autoscaler: AutoscalerConfig | undefined,
) {
  const object = ctx.object;
  const namespace = object.metadata.namespace;
  const runtimes = runtimeRecords(ctx.list(DARWIN_RUNTIMES));

  const parsed = DarwinCluster.spec.safeParse(object.spec);
  if (!parsed.success) return invalidSpec(ctx, prices, validationErrors(object, runtimes));
  const cluster: ClusterInput & { status?: unknown } = {
    metadata: { ...object.metadata, namespace },
    spec: parsed.data,
    status: object.status,
  };
  const rayName = rayClusterName(object.metadata.name);
  const liveRayCluster = ctx.cached(RAY_CLUSTERS, namespace, rayName);

  const runtime = resolveRuntime(runtimes, parsed.data.runtime);
  if (!runtime) {
    const available = runtimes.filter((r) => !r.spec.deprecated).map((r) => r.spec.displayName);
    const blocker: Blocker = {
      reason: "RuntimeNotFound",
      message: `DarwinRuntime "${parsed.data.runtime}" does not exist; set spec.runtime to the displayName or name of one of: ${available.sort().join(", ") || "(none installed: kubectl get darwinruntimes)"}.`,
    };
    await writeStatus(ctx, cluster, liveRayCluster, undefined, prices, blocker);
    ctx.event({ type: "Warning", reason: blocker.reason, action: "ResolveRuntime", note: blocker.message });
    return undefined;
  }
  const errors = validationErrors(object, runtimes);
  if (errors.length > 0) return invalidSpec(ctx, prices, errors);

  // The autoscaler's replicas are read from the live RayCluster and written back inside KubeRay's atomic
  // workerGroupSpecs: the apply is conditional on the version read, so a stale copy cannot undo a scale.
  const rayCluster = await ctx.applyFromLive(RAY_CLUSTERS, rayName, (live) =>
    renderRayCluster(cluster, runtime.spec, { liveReplicas: workerReplicas(live), autoscaler }),
  );
  const jupyter = await reconcileJupyter(ctx, cluster, runtime);
  const packages = checkPackages(ctx, cluster, rayCluster.object);
  const requeueAfterMs = await writeStatus(
    ctx,
    cluster,
    rayCluster.object,
    jupyter,
    prices,
    undefined,
    activity,
    alerts,
    packages,
  );
  return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
}

/** KubeRay's label of a Ray pod's role, and of the RayCluster it belongs to. */
const RAY_NODE_TYPE = "ray.io/node-type";
const RAY_CLUSTER_LABEL = "ray.io/cluster";
/** The head pods of DarwinClusters: they carry the template's darwin.dreamhorizon.org/cluster label. */
const HEAD_PODS_SELECTOR = `${darwinKey("cluster")},${RAY_NODE_TYPE}=head`;

/** The DarwinCluster a head pod belongs to (the template's cluster label). */
export function clusterOfHeadPod(pod: KubeObject): string[] {
  const name = pod.metadata.labels?.[darwinKey("cluster")];
  return name ? [objectKey({ namespace: pod.metadata.namespace, name })] : [];
}

/**
 * For a cluster with pip or Maven packages whose head is not ready: its head pods (from the watch's cache; their
 * changes wake the cluster) for a failed install step.
 */
function checkPackages(
  ctx: ReconcileContext,
  cluster: ClusterInput,
  rayCluster: KubeObject,
): { failure: PackagesFailure | undefined } | undefined {
  const { pip = [], maven = [] } = cluster.spec.packages ?? {};
  if ((pip.length === 0 && maven.length === 0) || cluster.spec.suspend) return undefined;
  const conditions = isPlainObject(rayCluster.status) ? rayCluster.status.conditions : undefined;
  const headReady =
    Array.isArray(conditions) &&
    conditions.some((c) => isPlainObject(c) && c.type === "HeadPodReady" && c.status === "True");
  if (headReady) return undefined;
  const heads = ctx
    .list(PODS, rayCluster.metadata.namespace)
    .filter((pod) => pod.metadata.labels?.[RAY_CLUSTER_LABEL] === rayCluster.metadata.name);
  return { failure: packagesFailure(heads) };
}

/** The clusters whose spec.runtime names this runtime (by displayName or by name). */
export function clustersUsingRuntime(runtime: KubeObject, cache: CacheReader): string[] {
  const spec = isPlainObject(runtime.spec) ? runtime.spec : {};
  const refs = new Set([runtime.metadata.name, spec.displayName]);
  return cache
    .list(DARWIN_CLUSTERS)
    .filter((cluster) => isPlainObject(cluster.spec) && refs.has(cluster.spec.runtime as string))
    .map((cluster) => objectKey(cluster.metadata));
}

/**
 * The webhook's rules, run on the stored object. The runtime choice is the reconcile's to judge (a missing
 * one is RuntimeNotFound, retried; a deprecated one keeps running clusters working), so it is passed as
 * unchanged; every worker group counts as new, so the GPU rule still applies.
 */
function validationErrors(object: KubeObject, runtimes: RuntimeRecord[]) {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const old = { ...object, spec: { ...spec, workerGroups: [] } };
  return validateDarwinCluster(object, old, { lookups: lookupsFrom({ runtimes }) });
}

async function invalidSpec(
  ctx: ReconcileContext,
  prices: CapacityPrices,
  errors: Parameters<typeof formatFieldErrors>[0],
): Promise<never> {
  const message = formatFieldErrors(errors) || "the spec is not a valid DarwinCluster spec";
  const object = ctx.object;
  // Phase Failed as well as Ready=False: what the terminal error itself records is only the condition.
  const parsed = DarwinCluster.spec.safeParse(object.spec);
  if (parsed.success) {
    const cluster = { metadata: object.metadata, spec: parsed.data, status: object.status };
    await writeStatus(ctx, cluster, undefined, undefined, prices, { reason: "InvalidSpec", message });
  }
  throw new TerminalError("InvalidSpec", message);
}

/** Replicas per worker group of the live RayCluster: the autoscaler's, to be kept. */
function workerReplicas(rayCluster: KubeObject | undefined): Record<string, number> {
  const spec = rayCluster?.spec;
  const groups = isPlainObject(spec) && Array.isArray(spec.workerGroupSpecs) ? spec.workerGroupSpecs : [];
  const replicas: Record<string, number> = {};
  for (const group of groups) {
    if (isPlainObject(group) && typeof group.groupName === "string" && typeof group.replicas === "number")
      replicas[group.groupName] = group.replicas;
  }
  return replicas;
}

/** Applies the Jupyter Deployment and Service, or deletes them when Jupyter is disabled. */
async function reconcileJupyter(
  ctx: ReconcileContext,
  cluster: ClusterInput,
  runtime: RuntimeRecord,
): Promise<KubeObject | undefined> {
  if (!cluster.spec.jupyter.enabled) {
    const name = jupyterName(cluster.metadata.name);
    await deleteOwned(ctx, DEPLOYMENTS, name);
    await deleteOwned(ctx, SERVICES, name);
    await deleteOwned(ctx, SECRETS, name);
    return undefined;
  }
  await ensureJupyterSecret(ctx, cluster);
  const deployment = await ctx.apply(DEPLOYMENTS, renderJupyterDeployment(cluster, runtime.spec));
  await ctx.apply(SERVICES, renderJupyterService(cluster));
  return deployment.object;
}

/**
 * Creates the Secret with the Jupyter token once. Created, never applied: a copy missing from a lagging
 * cache must not replace the token the running server was started with (409: it exists, keep it).
 */
async function ensureJupyterSecret(ctx: ReconcileContext, cluster: ClusterInput): Promise<void> {
  const name = jupyterName(cluster.metadata.name);
  if (jupyterToken(ctx.cached(SECRETS, cluster.metadata.namespace, name))) return;
  const secret = withManagedByLabel(
    withControllerReference(renderJupyterSecret(cluster, randomBytes(24).toString("hex")), ctx.object),
  );
  try {
    await ctx.client.requestObject({
      method: "POST",
      path: resourcePath(SECRETS, cluster.metadata.namespace),
      query: { fieldManager: FIELD_MANAGER },
      body: secret,
    });
    ctx.log.info({ secret: name }, "Created Jupyter token Secret");
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 409)) throw error;
  }
}

const PHASE_EVENTS: Partial<Record<Phase, string>> = {
  Creating: "The Ray cluster is starting.",
  Ready: "The Ray cluster is ready.",
  Suspending: "The Ray cluster is stopping.",
  Suspended: "The Ray cluster is stopped; its spec is kept.",
  Failed: "The Ray cluster failed; see the Ready condition.",
};

/** Writes the computed status (with the activity check, when on); a phase change becomes an Event. */
async function writeStatus(
  ctx: ReconcileContext,
  cluster: ClusterInput & { status?: unknown },
  rayCluster: KubeObject | undefined,
  jupyter: KubeObject | undefined,
  prices: CapacityPrices,
  blocker?: Blocker,
  activity?: ActivityOptions,
  alerts?: AlertsConfig,
  packages?: { failure: PackagesFailure | undefined },
): Promise<number | undefined> {
  const before = isPlainObject(cluster.status) ? cluster.status.phase : undefined;
  const input = { ...cluster, metadata: { ...cluster.metadata, generation: ctx.object.metadata.generation } };
  const now = ctx.now();
  let computed = computeDarwinClusterStatus(input, rayCluster, jupyter, prices, now, blocker, packages);
  const alert = alerts && evaluateAlerts({ cluster: input, status: computed, defaults: alerts, now });
  if (alert) computed = { ...computed, conditions: alert.conditions };
  const { status, requeueAfterMs } = activity
    ? await checkActivity(ctx, cluster, computed, activity)
    : { status: computed, requeueAfterMs: undefined };
  await ctx.updateStatus(status as JsonObject);
  const notified = alert && alerts ? await notifyAlerts(ctx, cluster, status, alert.fired, alerts) : {};
  const note = status.phase && PHASE_EVENTS[status.phase];
  if (status.phase !== before && note && !blocker) {
    const ready = status.conditions?.find((c) => c.type === "Ready");
    ctx.event({
      type: status.phase === "Failed" ? "Warning" : "Normal",
      reason: status.phase ?? "Unknown",
      action: "Reconcile",
      note: status.phase === "Failed" && ready ? `${note} ${ready.message}` : note,
    });
  }
  return earliest(requeueAfterMs, alert?.requeueAfterMs, notified.retryAfterMs);
}

const earliest = (...delays: (number | undefined)[]): number | undefined => {
  const set = delays.filter((d): d is number => d !== undefined);
  return set.length > 0 ? Math.min(...set) : undefined;
};
