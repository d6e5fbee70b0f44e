/** DarwinRuntime: a cluster-wide catalog entry naming a Ray/Python image that DarwinClusters run. */
import { z } from "zod";
import { matching, statusBase } from "./common.ts";
import { defineKind } from "./kind.ts";

export const DarwinRuntimeSpec = z
  .object({
    displayName: matching(
      z.string().min(1).max(63),
      /^[A-Za-z0-9][A-Za-z0-9.-]*$/,
      "must be letters, digits, '.' and '-', starting with a letter or digit, e.g. Ray2.37.0-Py310-CPU",
    ).describe("The name users write in DarwinCluster.spec.runtime, e.g. Ray2.37.0-Py310-CPU."),
    rayVersion: matching(
      z.string().max(32),
      /^[0-9]+\.[0-9]+\.[0-9]+$/,
      "must be a version major.minor.patch, e.g. 2.37.0",
    ).describe("Ray version inside the image, e.g. 2.37.0; must match the image (KubeRay relies on it)."),
    pythonVersion: matching(
      z.string().max(16),
      /^3\.[0-9]+$/,
      'must be a Python 3 minor version, e.g. 3.10 (quote it in YAML: "3.10")',
    ).describe("Python minor version inside the image, e.g. 3.10."),
    sparkVersion: matching(
      z.string().max(32),
      /^[0-9]+\.[0-9]+\.[0-9]+$/,
      "must be a version major.minor.patch, e.g. 3.5.1",
    )
      .optional()
      .describe(
        "Spark version bundled in the image (Ray on Spark), e.g. 3.5.1; empty when the image has none.",
      ),
    image: z
      .string()
      .min(1)
      .max(512)
      .describe("Container image for Ray head and worker pods, e.g. rayproject/ray:2.37.0-py310."),
    jupyterImage: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe("Container image for the cluster's Jupyter server; defaults to the Ray image."),
    gpu: z
      .boolean()
      .default(false)
      .describe("Whether the image carries GPU libraries (CUDA); GPU worker groups need it."),
    deprecated: z
      .boolean()
      .default(false)
      .describe("Deprecated runtimes keep running clusters working but are refused for new clusters."),
    description: z.string().max(1024).optional().describe("What the runtime is for, shown in listings."),
  })
  .describe("Specification of a runtime: the Ray, Python and Spark versions and the images that carry them.");

export const DarwinRuntimeStatus = z.object({ ...statusBase }).describe("Observed state of the runtime.");

export const DarwinRuntime = defineKind({
  kind: "DarwinRuntime",
  plural: "darwinruntimes",
  singular: "darwinruntime",
  shortNames: ["drt"],
  scope: "Cluster",
  description:
    "DarwinRuntime is a cluster-wide catalog entry: a named Ray/Python (and optionally Spark) image that DarwinClusters select by display name.",
  spec: DarwinRuntimeSpec,
  status: DarwinRuntimeStatus,
  maxNameLength: 63,
  printerColumns: [
    {
      name: "Display-Name",
      type: "string",
      jsonPath: ".spec.displayName",
      description: "Name used in DarwinCluster.spec.runtime.",
    },
    { name: "Ray", type: "string", jsonPath: ".spec.rayVersion", description: "Ray version." },
    { name: "Python", type: "string", jsonPath: ".spec.pythonVersion", description: "Python version." },
    { name: "GPU", type: "boolean", jsonPath: ".spec.gpu", description: "Whether the image supports GPUs." },
  ],
});
