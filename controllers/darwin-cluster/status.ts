/**
 * The status of a DarwinCluster, computed from its RayCluster (and Jupyter Deployment) as KubeRay reports
 * them. Pure: the same inputs give the same status, so an unchanged cluster costs no status write.
 */
import { z } from "zod";
import { memoryBytes } from "../../api/validation/index.ts";
import type { Condition, DarwinCluster } from "../../crds/src/index.ts";
import { type ConditionUpdate, findCondition, setCondition } from "../../operator/conditions.ts";
import { isPlainObject } from "../../operator/json.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { CapacityPrices } from "./prices.ts";
import { jupyterURL } from "./render/jupyter.ts";
import { MAVEN_CONTAINER, PACKAGES_CONTAINER } from "./render/packages.ts";
import { type ClusterInput, HEAD_PORTS, headServiceName, rayClusterName } from "./render/ray-cluster.ts";

export type DarwinClusterStatus = z.output<typeof DarwinCluster.status>;
export type Phase = NonNullable<DarwinClusterStatus["phase"]>;

/** The parts of a DarwinCluster the status reads. */
export interface StatusInput extends ClusterInput {
  metadata: ClusterInput["metadata"] & { generation?: number | undefined };
  status?: unknown;
}

/** Something that stops the cluster from being reconciled (the reconcile found it; Ready says it). */
export interface Blocker {
  /** CamelCase reason, e.g. RuntimeNotFound, InvalidSpec. */
  reason: string;
  message: string;
}

const kubeCondition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** What Darwin reads of a RayCluster: its conditions, counts and the group specs it costs. */
const RayClusterView = z.looseObject({
  metadata: z.looseObject({ generation: z.number().optional() }),
  spec: z
    .looseObject({
      suspend: z.boolean().optional(),
      workerGroupSpecs: z
        .array(
          z.looseObject({
            groupName: z.string(),
            replicas: z.number().optional(),
            minReplicas: z.number().optional(),
            maxReplicas: z.number().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  status: z
    .looseObject({
      conditions: z.array(kubeCondition).optional(),
      state: z.string().optional(),
      reason: z.string().optional(),
      readyWorkerReplicas: z.number().optional(),
      desiredWorkerReplicas: z.number().optional(),
      head: z.looseObject({ serviceName: z.string().optional() }).optional(),
    })
    .optional(),
});
type RayClusterView = z.infer<typeof RayClusterView>;

const DeploymentView = z.looseObject({
  status: z.looseObject({ availableReplicas: z.number().optional() }).optional(),
});

interface Observation {
  phase: Phase;
  ready: Omit<Condition, "lastTransitionTime" | "observedGeneration">;
}

const rayCondition = (view: RayClusterView, type: string) =>
  view.status?.conditions?.find((c) => c.type === type);
const isTrue = (view: RayClusterView, type: string) => rayCondition(view, type)?.status === "True";

/** Phase and Ready from the RayCluster's conditions; its deprecated `state` only when it has none. */
export function observeRayCluster(
  cluster: ClusterInput,
  rayCluster: RayClusterView | undefined,
): Observation {
  const name = rayClusterName(cluster.metadata.name);
  const suspend = cluster.spec.suspend;
  if (!rayCluster) {
    return suspend
      ? {
          phase: "Suspended",
          ready: {
            type: "Ready",
            status: "False",
            reason: "Suspended",
            message: "The cluster is stopped (spec.suspend is true); set spec.suspend to false to start it.",
          },
        }
      : {
          phase: "Pending",
          ready: {
            type: "Ready",
            status: "False",
            reason: "RayClusterPending",
            message: `RayCluster ${name} is being created.`,
          },
        };
  }
  const hasConditions = (rayCluster.status?.conditions?.length ?? 0) > 0;
  const state = rayCluster.status?.state;
  const suspended = hasConditions ? isTrue(rayCluster, "RayClusterSuspended") : state === "suspended";
  const suspending = hasConditions && isTrue(rayCluster, "RayClusterSuspending");

  if (suspend) {
    return suspended
      ? {
          phase: "Suspended",
          ready: {
            type: "Ready",
            status: "False",
            reason: "Suspended",
            message: `The cluster is stopped (spec.suspend is true): RayCluster ${name} has no pods; set spec.suspend to false to start it.`,
          },
        }
      : {
          phase: "Suspending",
          ready: {
            type: "Ready",
            status: "False",
            reason: "Suspending",
            message: `RayCluster ${name} is deleting its pods (spec.suspend is true).`,
          },
        };
  }
  if (suspended || suspending) {
    return {
      phase: "Creating",
      ready: {
        type: "Ready",
        status: "False",
        reason: "Resuming",
        message: `RayCluster ${name} is starting again after a stop.`,
      },
    };
  }
  const failure = hasConditions
    ? rayCondition(rayCluster, "ReplicaFailure")
    : state === "failed"
      ? { status: "True", reason: rayCluster.status?.reason, message: undefined }
      : undefined;
  if (failure?.status === "True") {
    return {
      phase: "Failed",
      ready: {
        type: "Ready",
        status: "False",
        reason: "ReplicaFailure",
        message: `RayCluster ${name} cannot create its pods: ${failure.message ?? failure.reason ?? "unknown reason"}; check the head and worker resources and kubectl get events.`,
      },
    };
  }
  if (!hasConditions) {
    return state === "ready"
      ? { phase: "Ready", ready: readyTrue(name) }
      : {
          phase: "Creating",
          ready: {
            type: "Ready",
            status: "False",
            reason: "RayClusterNotReady",
            message: `RayCluster ${name} is ${state ?? "starting"}.`,
          },
        };
  }
  if (!isTrue(rayCluster, "HeadPodReady")) {
    const head = rayCondition(rayCluster, "HeadPodReady");
    return {
      phase: "Creating",
      ready: {
        type: "Ready",
        status: "False",
        reason: "HeadPodNotReady",
        message: `The Ray head pod of RayCluster ${name} is not ready${head?.message ? `: ${head.message}` : ""}.`,
      },
    };
  }
  if (!isTrue(rayCluster, "RayClusterProvisioned")) {
    const ready = rayCluster.status?.readyWorkerReplicas ?? 0;
    const desired = rayCluster.status?.desiredWorkerReplicas ?? 0;
    return {
      phase: "Creating",
      ready: {
        type: "Ready",
        status: "False",
        reason: "WorkersNotReady",
        message: `${ready} of ${desired} Ray workers of RayCluster ${name} are ready.`,
      },
    };
  }
  return { phase: "Ready", ready: readyTrue(name) };
}

const readyTrue = (name: string): Observation["ready"] => ({
  type: "Ready",
  status: "True",
  reason: "RayClusterReady",
  message: `RayCluster ${name} is ready.`,
});

/** Hourly price of a pod of `cores` and `memory` on a capacity class. */
function podCost(
  prices: CapacityPrices,
  capacity: keyof CapacityPrices,
  cores: number,
  memory: number | string,
) {
  const price = prices[capacity];
  return cores * price.cpuCoreHour + ((memoryBytes(memory) ?? 0) / 2 ** 30) * price.memoryGiBHour;
}

/**
 * Hourly cost of the running pods: the head, and the ready workers. KubeRay counts ready workers across all
 * groups; they are attributed to the groups in spec order, up to each group's desired replicas.
 */
export function estimateCostPerHour(
  cluster: ClusterInput,
  rayCluster: RayClusterView,
  prices: CapacityPrices,
): number {
  const { spec } = cluster;
  let cost = podCost(prices, spec.head.capacity, spec.head.cores, spec.head.memory);
  let unassigned = rayCluster.status?.readyWorkerReplicas ?? 0;
  const live = new Map((rayCluster.spec?.workerGroupSpecs ?? []).map((g) => [g.groupName, g]));
  for (const group of spec.workerGroups) {
    const liveGroup = live.get(group.name);
    const desired = Math.min(
      Math.max(liveGroup?.replicas ?? group.minPods, liveGroup?.minReplicas ?? group.minPods),
      liveGroup?.maxReplicas ?? group.maxPods,
    );
    const ready = Math.min(unassigned, desired);
    unassigned -= ready;
    cost += ready * podCost(prices, group.capacity, group.cores, group.memory);
  }
  return cost;
}

/** Two to four decimals: 0.42 -> "0.42", 0.0712 -> "0.0712", 1.5 -> "1.50". */
export function formatCost(cost: number): string {
  return cost
    .toFixed(4)
    .replace(/(\.\d\d\d?)0+$/, "$1")
    .replace(/(\.\d\d)0$/, "$1");
}

export function computeDarwinClusterStatus(
  cluster: StatusInput,
  rayCluster: KubeObject | undefined,
  jupyter: KubeObject | undefined,
  prices: CapacityPrices,
  now: Date,
  blocker?: Blocker,
  packages?: { failure: PackagesFailure | undefined },
): DarwinClusterStatus {
  const previous = DarwinClusterStatusView.safeParse(cluster.status ?? {});
  const conditions = previous.success ? previous.data.conditions : undefined;
  const generation = cluster.metadata.generation;
  const view = rayCluster ? RayClusterView.safeParse(rayCluster).data : undefined;
  const observed = observeRayCluster(cluster, view);
  let { phase, ready } = observed;
  if (blocker) {
    // InvalidSpec stops everything. A missing runtime leaves a running RayCluster alone, yet the cluster
    // waits for its runtime (Pending): the phase never says Ready while the Ready condition is False.
    if (blocker.reason === "InvalidSpec") phase = "Failed";
    else if (phase !== "Suspended" && phase !== "Suspending") phase = "Pending";
    ready = { type: "Ready", status: "False", reason: blocker.reason, message: blocker.message };
  } else if (packages?.failure !== undefined && !cluster.spec.suspend) {
    phase = "Failed";
    ready = {
      type: "Ready",
      status: "False",
      reason: "PackagesFailed",
      message: `The ${STEPS[packages.failure.field].what} could not be installed, so Ray does not start: ${packages.failure.message}; fix spec.packages.${packages.failure.field}.`,
    };
  } else if (phase === "Ready" && cluster.spec.jupyter.enabled) {
    const available = DeploymentView.safeParse(jupyter ?? {}).data?.status?.availableReplicas ?? 0;
    if (available < 1) {
      phase = "Creating";
      ready = {
        type: "Ready",
        status: "False",
        reason: "JupyterNotReady",
        message: "The Ray cluster is ready; the Jupyter server is starting.",
      };
    }
  }

  const namespace = cluster.metadata.namespace ?? "default";
  const headService = view?.status?.head?.serviceName ?? headServiceName(cluster.metadata.name);
  const running = view !== undefined && phase !== "Suspended" && !cluster.spec.suspend;
  const status: DarwinClusterStatus = {
    phase,
    rayClusterName: rayClusterName(cluster.metadata.name),
    dashboardURL: `http://${headService}.${namespace}.svc:${HEAD_PORTS.dashboard}`,
    ...(cluster.spec.jupyter.enabled && { jupyterURL: jupyterURL(cluster) }),
    workers: {
      ready: running ? (view.status?.readyWorkerReplicas ?? 0) : 0,
      desired: running ? (view.status?.desiredWorkerReplicas ?? 0) : 0,
    },
    estimatedCostPerHour: formatCost(running ? estimateCostPerHour(cluster, view, prices) : 0),
    ...(previous.success &&
      previous.data.lastActivityTime !== undefined && {
        lastActivityTime: previous.data.lastActivityTime,
      }),
    ...(generation !== undefined && { observedGeneration: generation }),
    conditions: setCondition(conditions, ready, { now, observedGeneration: generation }),
  };
  const packagesCondition = packagesState(
    packages?.failure,
    findCondition(conditions, "PackagesFailed"),
    phase,
  );
  if (packagesCondition)
    status.conditions = setCondition(status.conditions, packagesCondition, {
      now,
      observedGeneration: generation,
    });
  return status;
}

/**
 * The PackagesFailed condition: True with pip's message while the install step fails; False once the
 * cluster is Ready after a failure; absent for a cluster whose packages never failed.
 */
function packagesState(
  failure: PackagesFailure | undefined,
  before: Condition | undefined,
  phase: Phase,
): ConditionUpdate | undefined {
  if (failure !== undefined)
    return {
      type: "PackagesFailed",
      status: "True",
      reason: STEPS[failure.field].reason,
      message: failure.message,
    };
  if (before?.status === "True" && phase === "Ready")
    return {
      type: "PackagesFailed",
      status: "False",
      reason: "Installed",
      message: "The packages are installed.",
    };
  return undefined;
}

/** A failed install step: which list of spec.packages it installs, and the tool's message. */
export interface PackagesFailure {
  field: "pip" | "maven";
  message: string;
}

/** The install steps (init containers) by spec.packages field: container, condition reason, wording. */
const STEPS = {
  pip: { container: PACKAGES_CONTAINER, reason: "PipInstallFailed", what: "pip packages" },
  maven: { container: MAVEN_CONTAINER, reason: "MavenResolveFailed", what: "Maven packages" },
} as const;

/** The previous status, read leniently: only its conditions and activity carry over. */
const DarwinClusterStatusView = z.looseObject({
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
  lastActivityTime: z.string().optional(),
});

const TerminatedState = z.looseObject({ exitCode: z.number(), message: z.string().optional() });
const PodView = z.looseObject({
  status: z
    .looseObject({
      initContainerStatuses: z
        .array(
          z.looseObject({
            name: z.string(),
            state: z.looseObject({ terminated: TerminatedState.optional() }).optional(),
            lastState: z.looseObject({ terminated: TerminatedState.optional() }).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/**
 * What the cache keeps of a head pod: its identity and labels (which cluster it belongs to) and its install
 * steps' statuses, all that packagesFailure reads. A whole pod (spec, every container's status) is several
 * kilobytes, held for every running cluster. Pure.
 */
export function headPodCacheView(pod: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, labels, ownerReferences, deletionTimestamp } = pod.metadata;
  const metadata = definedOnly({
    name,
    namespace,
    uid,
    resourceVersion,
    labels,
    ownerReferences,
    deletionTimestamp,
  });
  const statuses = isPlainObject(pod.status) ? pod.status.initContainerStatuses : undefined;
  const steps = new Set<unknown>([PACKAGES_CONTAINER, MAVEN_CONTAINER]);
  const kept = Array.isArray(statuses)
    ? statuses
        .filter((s) => isPlainObject(s) && steps.has(s.name))
        .map((s) =>
          isPlainObject(s) ? definedOnly({ name: s.name, state: s.state, lastState: s.lastState }) : s,
        )
    : [];
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata,
    ...(kept.length > 0 && { status: { initContainerStatuses: kept } }),
  } as KubeObject;
}

const definedOnly = <T extends object>(fields: T): Partial<T> =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The failure of an install step (pip's, then Maven's) of any of these pods (now, or in its last attempt
 * before a restart), with the step's message, else undefined. Pure.
 */
export function packagesFailure(pods: readonly unknown[]): PackagesFailure | undefined {
  for (const pod of pods) {
    const statuses = PodView.safeParse(pod).data?.status?.initContainerStatuses ?? [];
    for (const field of ["pip", "maven"] as const) {
      const install = statuses.find((s) => s.name === STEPS[field].container);
      const failed = [install?.state?.terminated, install?.lastState?.terminated].find(
        (t) => t !== undefined && t.exitCode !== 0,
      );
      if (failed) {
        const message =
          failed.message?.trim() || `${STEPS[field].container} failed (exit ${failed.exitCode})`;
        return { field, message };
      }
    }
  }
  return undefined;
}
