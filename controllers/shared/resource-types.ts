/** The resource types of the children Darwin's controllers create and own. */
import type { ResourceType } from "../../operator/resource.ts";

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
