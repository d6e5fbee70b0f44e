/**
 * The KubeRay RayCluster (ray.io/v1) that runs a DarwinCluster: one head group and one autoscaled worker
 * group per spec.workerGroups entry, placed on spot or on-demand nodes. Pure: the same inputs give the same
 * object.
 */
import type { V1PodTemplateSpec, V1ResourceRequirements } from "@kubernetes/client-node";
import type { z } from "zod";
import { type DarwinRuntimeSpec, memoryQuantity } from "../../../api/validation/index.ts";
import type { DarwinCluster } from "../../../crds/src/index.ts";
import type { RayCluster, RayHeadGroupSpec, RayWorkerGroupSpec } from "../../shared/kuberay.ts";
import { darwinKey, isLabelName, isLabelValue, MANAGED_BY } from "../../shared/labels.ts";
import { dns1035Name } from "../../shared/names.ts";
import { CAPACITY_KEY, placement } from "../../shared/placement.ts";
import type { AutoscalerConfig } from "../autoscaler.ts";
import { renderPackageInstall } from "./packages.ts";

export { CAPACITY_KEY, placement };

export type DarwinClusterSpec = z.output<typeof DarwinCluster.spec>;
export type Capacity = DarwinClusterSpec["head"]["capacity"];

/** KubeRay appends suffixes such as `-head-svc` to the RayCluster's name; 53 leaves room for them. */
export const RAY_CLUSTER_NAME_MAX = 53;

/** Carries the spec's pip packages as a Ray runtime_env (JSON) to every Ray container and to Jupyter. */
export const RUNTIME_ENV_VAR = "DARWIN_RUNTIME_ENV";
/** Carries the spec's Maven coordinates (comma-separated) for Spark/Java. */
export const MAVEN_PACKAGES_VAR = "DARWIN_MAVEN_PACKAGES";

/** Ports of the head container, named as KubeRay names them (it builds the head Service from them). */
export const HEAD_PORTS = { "gcs-server": 6379, dashboard: 8265, client: 10001, metrics: 8080 } as const;

/** The parts of a DarwinCluster the render reads. */
export interface ClusterInput {
  metadata: { name: string; namespace?: string | undefined };
  spec: DarwinClusterSpec;
}

export interface RayClusterOptions {
  /**
   * Worker replicas per group name, as the live RayCluster has them (the autoscaler's values). KubeRay's
   * workerGroupSpecs is an atomic list, so every apply replaces all of it: leaving `replicas` out would
   * reset it to the CRD default 0 and undo the autoscaler. Groups named here keep the live value; groups
   * not named (all of them when the RayCluster is created) start at their minPods.
   * @default {} (creation: every group starts at minPods)
   */
  liveReplicas?: Readonly<Record<string, number>>;
  /**
   * What the autoscaler sidecar beside each head requests and is limited to (the configuration's
   * rayAutoscaler).
   * @default undefined (KubeRay's defaults: 500m and 512Mi, requested and limited)
   */
  autoscaler?: AutoscalerConfig | undefined;
}

/**
 * The name of the RayCluster of a DarwinCluster (and its pods' ray.io/cluster label): KubeRay wants an
 * RFC 1035 label of at most 53 characters, a DarwinCluster may be any DNS name of up to 63.
 */
export const rayClusterName = (clusterName: string): string => dns1035Name(clusterName, RAY_CLUSTER_NAME_MAX);

/** The Service KubeRay creates in front of the head pod. */
export const headServiceName = (clusterName: string): string => `${rayClusterName(clusterName)}-head-svc`;

/** Labels every child of a DarwinCluster carries (and its pods, through the templates). */
export function clusterLabels(cluster: ClusterInput): Record<string, string> {
  const labels = podLabels(cluster);
  const { owner, tags } = cluster.spec;
  if (owner !== undefined && isLabelValue(owner)) labels[darwinKey("owner")] = owner;
  for (const tag of tags) if (isLabelName(tag)) labels[`tag.${darwinKey(tag)}`] = "true";
  return labels;
}

/**
 * Labels of the pods: only what never changes, since a change of a pod template restarts Jupyter (and
 * would restart Ray pods under a KubeRay upgrade strategy) for a mere tag edit.
 */
export function podLabels(cluster: ClusterInput): Record<string, string> {
  return { ...MANAGED_BY, [darwinKey("cluster")]: cluster.metadata.name };
}

/** Owner and tags as annotations: emails and free-form tags are rarely valid label values. */
export function clusterAnnotations(cluster: ClusterInput): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (cluster.spec.owner !== undefined) annotations[darwinKey("owner")] = cluster.spec.owner;
  if (cluster.spec.tags.length > 0) annotations[darwinKey("tags")] = cluster.spec.tags.join(",");
  return annotations;
}

/** Environment for every container that runs Ray code: the packages to install. */
export function packageEnv(spec: DarwinClusterSpec): Array<{ name: string; value: string }> {
  const env: Array<{ name: string; value: string }> = [];
  const pip = spec.packages?.pip ?? [];
  const maven = spec.packages?.maven ?? [];
  if (pip.length > 0) env.push({ name: RUNTIME_ENV_VAR, value: JSON.stringify({ pip }) });
  if (maven.length > 0) env.push({ name: MAVEN_PACKAGES_VAR, value: maven.join(",") });
  return env;
}

/** requests = limits (Guaranteed QoS: Ray sizes its object store from the limit). */
function resources(cores: number, memory: number | string, gpus = 0): V1ResourceRequirements {
  const amounts: Record<string, string> = { cpu: String(cores), memory: memoryQuantity(memory) };
  if (gpus > 0) amounts["nvidia.com/gpu"] = String(gpus);
  return { requests: amounts, limits: { ...amounts } };
}

export function renderRayCluster(
  cluster: ClusterInput,
  runtime: DarwinRuntimeSpec,
  options: RayClusterOptions = {},
): RayCluster {
  const { spec } = cluster;
  const labels = clusterLabels(cluster);
  const annotations = clusterAnnotations(cluster);
  const install = renderPackageInstall(spec, runtime.image);
  const env = [...packageEnv(spec), ...(install?.env ?? [])];
  // With packages, every Ray pod installs them first, into volumes its Ray container reads them from.
  const withInstall = install
    ? {
        pod: { initContainers: install.initContainers, volumes: install.volumes },
        container: { volumeMounts: install.mounts },
      }
    : { pod: {}, container: {} };
  const hasWorkers = spec.workerGroups.some((g) => g.maxPods > 0);
  const podMetadata: V1PodTemplateSpec["metadata"] = { labels: podLabels(cluster) };

  const head: RayHeadGroupSpec = {
    // With workers, tasks go to them: a busy head (GCS, dashboard, drivers) slows the whole cluster. Without
    // workers the head is the cluster and keeps its CPUs.
    rayStartParams: { "dashboard-host": "0.0.0.0", ...(hasWorkers && { "num-cpus": "0" }) },
    template: {
      metadata: podMetadata,
      spec: {
        containers: [
          {
            name: "ray-head",
            image: runtime.image,
            ports: Object.entries(HEAD_PORTS).map(([name, containerPort]) => ({
              name,
              containerPort,
              protocol: "TCP",
            })),
            resources: resources(spec.head.cores, spec.head.memory),
            ...(env.length > 0 && { env }),
            ...withInstall.container,
          },
        ],
        ...withInstall.pod,
        ...placement(spec.head.capacity),
      },
    },
  };

  const workerGroupSpecs = spec.workerGroups.map(
    (group): RayWorkerGroupSpec => ({
      groupName: group.name,
      replicas: options.liveReplicas?.[group.name] ?? group.minPods,
      minReplicas: group.minPods,
      maxReplicas: group.maxPods,
      // Written although it is the CRD default: the list is atomic, and an apply that matches the live list
      // exactly is recognised as a no-op and not sent.
      numOfHosts: 1,
      template: {
        metadata: podMetadata,
        spec: {
          containers: [
            {
              name: "ray-worker",
              image: runtime.image,
              resources: resources(group.cores, group.memory, group.gpus),
              ...(env.length > 0 && { env }),
              ...withInstall.container,
            },
          ],
          ...withInstall.pod,
          ...placement(group.capacity),
        },
      },
    }),
  );

  return {
    apiVersion: "ray.io/v1",
    kind: "RayCluster",
    metadata: {
      name: rayClusterName(cluster.metadata.name),
      ...(cluster.metadata.namespace !== undefined && { namespace: cluster.metadata.namespace }),
      labels,
      ...(Object.keys(annotations).length > 0 && { annotations }),
    },
    spec: {
      rayVersion: runtime.rayVersion,
      // The autoscaler owns each group's replicas between minReplicas and maxReplicas.
      enableInTreeAutoscaling: true,
      ...(options.autoscaler && { autoscalerOptions: { resources: options.autoscaler } }),
      // KubeRay deletes every pod and keeps the spec: Darwin's stop.
      suspend: spec.suspend,
      headGroupSpec: head,
      workerGroupSpecs,
    },
  };
}
