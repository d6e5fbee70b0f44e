/**
 * KubeRay's RayCluster and RayService (ray.io/v1), as far as Darwin writes them: the fields the renderers
 * set, as zod schemas so that `kuberay.int.test.ts` can walk them against the CRDs the testbed installs
 * (every field must exist there with the same type). Pod templates are client-node's V1PodTemplateSpec: KubeRay embeds the
 * core type unchanged.
 */
import type { V1PodTemplateSpec } from "@kubernetes/client-node";
import { z } from "zod";
import { isPlainObject } from "../../operator/json.ts";
import type { RenderedMetadata } from "./rendered.ts";

const podTemplate = z.custom<V1PodTemplateSpec>(isPlainObject, "must be a pod template");

/** A group's `ray start` flags (KubeRay passes each as --key=value). */
const rayStartParams = z.record(z.string(), z.string());

export const rayHeadGroupSpec = z.strictObject({ rayStartParams, template: podTemplate });

export const rayWorkerGroupSpec = z.strictObject({
  groupName: z.string(),
  replicas: z.int(),
  minReplicas: z.int(),
  maxReplicas: z.int(),
  numOfHosts: z.int(),
  template: podTemplate,
});

/** Amounts of a container's resources by name (cpu, memory: Kubernetes quantities). */
const amounts = z.record(z.string(), z.string());

/** The autoscaler sidecar KubeRay adds beside the head; left out, KubeRay's defaults (500m, 512Mi). */
export const autoscalerOptions = z.strictObject({
  resources: z.strictObject({ requests: amounts, limits: amounts }),
});

export const rayClusterSpec = z.strictObject({
  rayVersion: z.string(),
  enableInTreeAutoscaling: z.boolean(),
  autoscalerOptions: autoscalerOptions.optional(),
  suspend: z.boolean(),
  headGroupSpec: rayHeadGroupSpec,
  workerGroupSpecs: z.array(rayWorkerGroupSpec),
});

export type RayHeadGroupSpec = z.infer<typeof rayHeadGroupSpec>;
export type RayWorkerGroupSpec = z.infer<typeof rayWorkerGroupSpec>;
export type RayClusterSpec = z.infer<typeof rayClusterSpec>;

/** A RayCluster as a renderer returns it (a type alias, so it is assignable to KubeObject). */
export type RayCluster = {
  apiVersion: "ray.io/v1";
  kind: "RayCluster";
  metadata: RenderedMetadata;
  spec: RayClusterSpec;
};

/**
 * A RayService's worker group as a Serve renders it: `ray start` flags of its own, and numOfHosts left to
 * KubeRay's default.
 */
export const rayServiceWorkerGroupSpec = rayWorkerGroupSpec
  .omit({ numOfHosts: true })
  .extend({ rayStartParams });

/** The Ray cluster of a RayService (`spec.rayClusterConfig`): KubeRay's RayClusterSpec, without suspend. */
export const rayServiceClusterSpec = z.strictObject({
  rayVersion: z.string(),
  enableInTreeAutoscaling: z.boolean(),
  headGroupSpec: rayHeadGroupSpec,
  workerGroupSpecs: z.array(rayServiceWorkerGroupSpec),
});

export const rayServiceSpec = z.strictObject({
  /** The Ray Serve applications, as the YAML text KubeRay hands to Serve's REST API. */
  serveConfigV2: z.string(),
  rayClusterConfig: rayServiceClusterSpec,
});

export type RayServiceSpec = z.infer<typeof rayServiceSpec>;

/** A RayService as a renderer returns it. */
export type RayService = {
  apiVersion: "ray.io/v1";
  kind: "RayService";
  metadata: RenderedMetadata;
  spec: RayServiceSpec;
};
