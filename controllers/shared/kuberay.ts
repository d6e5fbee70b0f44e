/**
 * KubeRay's RayCluster (ray.io/v1), as far as Darwin writes it: the fields the renderers set, as a zod
 * schema so that `kuberay.int.test.ts` can walk it against the CRD the testbed installs (every field must
 * exist there with the same type). Pod templates are client-node's V1PodTemplateSpec: KubeRay embeds the
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

export const rayClusterSpec = z.strictObject({
  rayVersion: z.string(),
  enableInTreeAutoscaling: z.boolean(),
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
