/** The resource types of Darwin's kinds and of the children Darwin's controllers create and own. */
import { API_VERSION, type KindDefinition } from "../../crds/src/index.ts";
import { type ResourceType, resourceType } from "../../operator/resource.ts";

/** The resource type of a Darwin kind. */
export function darwinResource(def: Pick<KindDefinition, "kind" | "plural" | "scope">): ResourceType {
  return resourceType(API_VERSION, def);
}

/** KubeRay's RayCluster (ray.io/v1). */
export const RAY_CLUSTERS: ResourceType = {
  apiVersion: "ray.io/v1",
  kind: "RayCluster",
  plural: "rayclusters",
  namespaced: true,
};

export const DEPLOYMENTS: ResourceType = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
};

export const SERVICES: ResourceType = {
  apiVersion: "v1",
  kind: "Service",
  plural: "services",
  namespaced: true,
};

export const SECRETS: ResourceType = {
  apiVersion: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
};

export const HORIZONTAL_POD_AUTOSCALERS: ResourceType = {
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  plural: "horizontalpodautoscalers",
  namespaced: true,
};

export const INGRESSES: ResourceType = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  plural: "ingresses",
  namespaced: true,
};

/** KubeRay's RayService (ray.io/v1): a Ray cluster running a Ray Serve application. */
export const RAY_SERVICES: ResourceType = {
  apiVersion: "ray.io/v1",
  kind: "RayService",
  plural: "rayservices",
  namespaced: true,
};

export const PODS: ResourceType = {
  apiVersion: "v1",
  kind: "Pod",
  plural: "pods",
  namespaced: true,
};

export const CONFIG_MAPS: ResourceType = {
  apiVersion: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};

export const JOBS: ResourceType = {
  apiVersion: "batch/v1",
  kind: "Job",
  plural: "jobs",
  namespaced: true,
};
