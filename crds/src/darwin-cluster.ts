/** DarwinCluster: a Ray compute cluster (with optional Jupyter), the seed's cluster JSON as a resource. */
import { z } from "zod";
import {
  capacity,
  cel,
  cores,
  dnsLabel,
  listMap,
  matching,
  memory,
  owner,
  statusBase,
  tags,
} from "./common.ts";
import { defineKind } from "./kind.ts";

export const HeadNode = z
  .object({
    cores: cores("the head node"),
    memory: memory("the head node"),
    capacity: capacity("on-demand"),
  })
  .describe(
    "The Ray head node (the seed's head_node_config). It runs the GCS, the dashboard and the driver.",
  );

const DEFAULT_MIN_PODS = 0;
const DEFAULT_MAX_PODS = 1;

export const WorkerGroup = cel(
  z
    .object({
      name: dnsLabel("Name of the worker group", 40),
      cores: cores("each worker"),
      memory: memory("each worker"),
      gpus: z
        .number()
        .int()
        .min(0)
        .max(16)
        .default(0)
        .describe("GPUs per worker; needs a runtime with gpu: true."),
      minPods: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(DEFAULT_MIN_PODS)
        .describe("Fewest workers the autoscaler keeps (the seed's min_pods)."),
      maxPods: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(DEFAULT_MAX_PODS)
        .describe("Most workers the autoscaler may start (the seed's max_pods)."),
      capacity: capacity("on-demand"),
    })
    .describe("A group of identical Ray workers (the seed's worker_node_configs[])."),
  // minPods and maxPods may be absent: defaults inside list items are not stored (see crds/src/openapi.ts)
  {
    rule: `(has(self.minPods) ? self.minPods : ${DEFAULT_MIN_PODS}) <= (has(self.maxPods) ? self.maxPods : ${DEFAULT_MAX_PODS})`,
    message: "minPods must be less than or equal to maxPods",
    fieldPath: ".minPods",
  },
);

export const DarwinClusterSpec = z
  .object({
    runtime: z
      .string()
      .min(1)
      .max(63)
      .describe(
        "Runtime to run: the displayName (e.g. Ray2.37.0-Py310-CPU) or name of a DarwinRuntime. The operator watches runtimes: creating or changing the named one reconciles this cluster again.",
      ),
    owner: owner(),
    tags: tags(),
    inactiveTimeMinutes: z
      .number()
      .min(0)
      .max(10080)
      .default(60)
      .describe(
        "Minutes without activity (no Ray job pending or running, no actor alive, no busy notebook kernel) after which the operator suspends the cluster (the seed's inactive_time; 0 never; fractions allowed, e.g. 0.5). A cluster running a job is never stopped.",
      ),
    suspend: z
      .boolean()
      .default(false)
      .describe("true stops the cluster (all pods deleted, spec kept); false starts it again."),
    head: HeadNode,
    workerGroups: listMap(
      z
        .array(WorkerGroup)
        .max(16)
        .default([])
        .describe("Worker groups; each is autoscaled between minPods and maxPods."),
      "name",
    ),
    packages: z
      .object({
        pip: z
          .array(z.string().min(1).max(256).describe("A pip requirement, e.g. xgboost==2.1.1."))
          .max(256)
          .default([])
          .describe(
            "pip requirements, installed on every Ray pod before Ray starts (an init container, into a volume on the Ray container's PYTHONPATH); one that cannot be installed sets condition PackagesFailed with pip's message. Also passed to every Ray container and to Jupyter as a Ray runtime_env in DARWIN_RUNTIME_ENV.",
          ),
        maven: z
          .array(
            matching(
              z.string().min(1).max(256),
              /^[^:\s]+:[^:\s]+:[^:\s]+$/,
              "must be Maven coordinates group:artifact:version, e.g. org.apache.spark:spark-avro_2.12:3.5.1",
            ).describe("Maven coordinates group:artifact:version."),
          )
          .max(256)
          .default([])
          .describe(
            "Maven coordinates (group:artifact:version) for Spark runtimes, resolved with their dependencies from Maven Central on every Ray pod before Ray starts (an init container running the Ivy of the runtime's PySpark, into a volume), and put on Spark's class path through the spark-defaults.conf that SPARK_CONF_DIR names; one that cannot be resolved sets condition PackagesFailed naming it. Also passed comma-separated in DARWIN_MAVEN_PACKAGES to every Ray container and to Jupyter.",
          ),
      })
      .optional()
      .describe(
        "Packages the cluster's jobs use, installed on every Ray pod before Ray starts: pip ones, and Maven ones for Spark.",
      ),
    alerts: z
      .object({
        maxRuntimeHours: z
          .number()
          .min(0)
          .max(8760)
          .optional()
          .describe(
            "Hours the cluster may run (since it last became Ready) before it alerts: condition RuntimeLimitExceeded, a Warning Event and the operator's webhook, once per breach (0 never; fractions allowed). Unset: the operator's default (alerts.maxRuntimeHours in its configuration).",
          ),
        maxCostPerDay: z
          .number()
          .min(0)
          .optional()
          .describe(
            "Cost per day (estimatedCostPerHour x 24) above which the cluster alerts: condition CostLimitExceeded, a Warning Event and the operator's webhook, once per breach (0 never). Unset: the operator's default (alerts.maxCostPerDay in its configuration).",
          ),
      })
      .optional()
      .describe("Long-running and cost alert limits; unset fields take the operator's defaults."),
    jupyter: z
      .object({
        enabled: z.boolean().default(true).describe("Run a Jupyter server attached to the cluster."),
      })
      .default({ enabled: true })
      .describe("The cluster's Jupyter notebook server."),
  })
  .describe(
    "Desired state of a Ray cluster: runtime, head and worker resources, packages, and an idle timeout.",
  );

export const DarwinClusterStatus = z
  .object({
    phase: z
      .enum(["Pending", "Creating", "Ready", "Suspending", "Suspended", "Failed"])
      .optional()
      .describe(
        "Summary of the cluster's lifecycle: Pending, Creating, Ready, Suspending, Suspended or Failed.",
      ),
    rayClusterName: z.string().optional().describe("Name of the KubeRay RayCluster that runs this cluster."),
    dashboardURL: z.string().optional().describe("URL of the Ray dashboard."),
    jupyterURL: z.string().optional().describe("URL of the Jupyter server, when enabled."),
    workers: z
      .object({
        ready: z.number().int().min(0).describe("Workers running and ready."),
        desired: z.number().int().min(0).describe("Workers wanted now."),
      })
      .optional()
      .describe("Worker counts across all groups."),
    estimatedCostPerHour: z
      .string()
      .optional()
      .describe("Estimated cost per hour of the running pods, from the operator's capacity prices."),
    lastActivityTime: z
      .string()
      .optional()
      .describe(
        "When activity (a Ray job, an actor, a notebook) was last seen, or the cluster last started (RFC 3339); the idle clock counts from it.",
      ),
    ...statusBase,
  })
  .describe("Observed state of the Ray cluster.");

export const DarwinCluster = defineKind({
  kind: "DarwinCluster",
  plural: "darwinclusters",
  singular: "darwincluster",
  shortNames: ["dc", "dcluster"],
  scope: "Namespaced",
  description:
    "DarwinCluster is a Ray compute cluster with an optional Jupyter server, autoscaled worker groups, spot/on-demand capacity and idle auto-stop.",
  spec: DarwinClusterSpec,
  status: DarwinClusterStatus,
  // The name becomes the RayCluster's name and its pods' ray.io/cluster label value (at most 63).
  maxNameLength: 63,
  printerColumns: [
    { name: "Runtime", type: "string", jsonPath: ".spec.runtime", description: "Runtime the cluster runs." },
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Lifecycle phase." },
    { name: "Workers", type: "integer", jsonPath: ".status.workers.ready", description: "Ready workers." },
    {
      name: "Desired",
      type: "integer",
      jsonPath: ".status.workers.desired",
      description: "Desired workers.",
    },
    {
      name: "Cost/h",
      type: "string",
      jsonPath: ".status.estimatedCostPerHour",
      description: "Estimated hourly cost.",
    },
    { name: "Owner", type: "string", jsonPath: ".spec.owner", description: "Owner.", priority: 1 },
    {
      name: "Dashboard",
      type: "string",
      jsonPath: ".status.dashboardURL",
      description: "Ray dashboard URL.",
      priority: 1,
    },
  ],
});
