// @testbed cluster
/**
 * The RayCluster and RayService types Darwin renders against KubeRay's CRDs as the testbed installs them:
 * every field of the subset exists in the CRD's schema with the same type, and the apiserver accepts what
 * the renderers produce with strict field validation (an unknown or misplaced field is an error, not
 * silently dropped).
 */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { type ResourceType, resourcePath } from "../../operator/resource.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { cluster, RUNTIME } from "../darwin-cluster/fixtures.ts";
import { renderJupyterDeployment, renderJupyterService } from "../darwin-cluster/render/jupyter.ts";
import { renderRayCluster } from "../darwin-cluster/render/ray-cluster.ts";
import { irisContext } from "../serve/render/fixtures.ts";
import {
  renderAutoscaler,
  renderDeployment,
  renderIngress,
  renderService,
} from "../serve/render/model-server.ts";
import { renderAppConfigMap, renderRayService } from "../serve/render/ray-service.ts";
import { rayClusterSpec, rayServiceSpec } from "./kuberay.ts";
import {
  CONFIG_MAPS,
  DEPLOYMENTS,
  HORIZONTAL_POD_AUTOSCALERS,
  INGRESSES,
  RAY_CLUSTERS,
  RAY_SERVICES,
  SERVICES,
} from "./resource-types.ts";

interface OpenApiSchema {
  type?: string;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema | boolean;
  /** A quantity: an integer or a string (`cpu: 2`, `cpu: 500m`). */
  "x-kubernetes-int-or-string"?: boolean;
}

const tb = useTestbed();

/** Where `schema` (zod) and `crd` (OpenAPI) disagree, as "path: problem" lines. */
function mismatches(schema: z.ZodType, crd: OpenApiSchema | undefined, path: string): string[] {
  if (!crd) return [`${path}: not in the CRD`];
  const def = (schema as z.ZodType & { def: { type: string } }).def;
  switch (def.type) {
    case "optional":
      return mismatches((schema as z.ZodOptional<z.ZodType>).unwrap(), crd, path);
    case "object": {
      if (crd.type !== "object") return [`${path}: CRD has ${crd.type}, not object`];
      const shape = (schema as z.ZodObject).shape as Record<string, z.ZodType>;
      return Object.entries(shape).flatMap(([key, field]) =>
        mismatches(field, crd.properties?.[key], `${path}.${key}`),
      );
    }
    case "array":
      if (crd.type !== "array") return [`${path}: CRD has ${crd.type}, not array`];
      return mismatches((schema as z.ZodArray<z.ZodType>).element, crd.items, `${path}[]`);
    case "record":
      return crd.type === "object" && typeof crd.additionalProperties === "object"
        ? mismatches((schema as z.ZodRecord).valueType as z.ZodType, crd.additionalProperties, `${path}{}`)
        : [`${path}: CRD has no map here`];
    case "number":
      return crd.type === ((schema as z.ZodNumber).format === "safeint" ? "integer" : "number")
        ? []
        : [`${path}: CRD has ${crd.type}`];
    case "custom":
      // A pod template: KubeRay embeds core/v1 PodTemplateSpec.
      return crd.properties?.spec?.properties?.containers ? [] : [`${path}: CRD has no pod template here`];
    case "string":
      return crd.type === "string" || crd["x-kubernetes-int-or-string"]
        ? []
        : [`${path}: CRD has ${crd.type}, not string`];
    default:
      return crd.type === def.type ? [] : [`${path}: CRD has ${crd.type}, not ${def.type}`];
  }
}

async function dryRunCreate(type: ResourceType, object: { metadata: { namespace?: string } }) {
  return tb.client.request({
    method: "POST",
    path: resourcePath(type, "default"),
    query: { dryRun: "All", fieldValidation: "Strict" },
    body: { ...object, metadata: { ...object.metadata, namespace: "default" } },
  });
}

/** The v1 `spec` schema of one of KubeRay's CRDs, as the testbed installed it. */
async function crdSpec(plural: string): Promise<OpenApiSchema | undefined> {
  const crd = (await tb.client.request({
    method: "GET",
    path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.ray.io`,
  })) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: OpenApiSchema } }> } };
  const v1 = crd.spec.versions.find((v) => v.name === "v1");
  expect(v1).toBeDefined();
  return v1?.schema.openAPIV3Schema.properties?.spec;
}

describe("KubeRay's RayCluster and RayService", () => {
  it("have every field Darwin writes, with the type Darwin writes", async () => {
    expect(mismatches(rayClusterSpec, await crdSpec("rayclusters"), "spec")).toEqual([]);
    expect(mismatches(rayServiceSpec, await crdSpec("rayservices"), "spec")).toEqual([]);
  });

  it("accept the rendered RayService and api Serve children under strict field validation", async () => {
    const api = irisContext();
    await expect(dryRunCreate(DEPLOYMENTS, renderDeployment(api))).resolves.toBeDefined();
    await expect(dryRunCreate(SERVICES, renderService(api.serve))).resolves.toBeDefined();
    await expect(
      dryRunCreate(HORIZONTAL_POD_AUTOSCALERS, renderAutoscaler(api.serve)),
    ).resolves.toBeDefined();
    await expect(dryRunCreate(INGRESSES, renderIngress(api.serve, api.environment))).resolves.toBeDefined();
    const ray = irisContext({ spec: { type: "ray-serve", replicas: { min: 1, max: 3 } } });
    await expect(dryRunCreate(CONFIG_MAPS, renderAppConfigMap(ray.serve))).resolves.toBeDefined();
    await expect(
      dryRunCreate(RAY_SERVICES, renderRayService(ray, { rayVersion: "2.37.0" })),
    ).resolves.toBeDefined();
  });

  it("accepts the rendered RayCluster, Deployment and Service under strict field validation", async () => {
    const spec = {
      packages: { pip: ["pandas==2.2.2"], maven: ["org.apache.spark:spark-sql_2.12:3.5.1"] },
      workerGroups: [
        { name: "spot", cores: 2, memory: 4, minPods: 1, maxPods: 2, capacity: "spot" },
        { name: "gpu", cores: 4, memory: 16, gpus: 1, minPods: 0, maxPods: 1, capacity: "on-demand" },
      ],
    };
    const input = cluster(spec, { name: "strict-check" });
    await expect(dryRunCreate(RAY_CLUSTERS, renderRayCluster(input, RUNTIME))).resolves.toBeDefined();
    await expect(dryRunCreate(DEPLOYMENTS, renderJupyterDeployment(input, RUNTIME))).resolves.toBeDefined();
    await expect(dryRunCreate(SERVICES, renderJupyterService(input))).resolves.toBeDefined();
  });
});
