/** Serve: a deployed model behind an HTTP endpoint, what `hermes create-serve` + `deploy-model` describe. */
import { z } from "zod";
import { cel, cores, dnsLabel, imageRef, keyValue, listMap, matching, memory, statusBase } from "./common.ts";
import { defineKind } from "./kind.ts";

/**
 * Why replicas.min is at least 1. An HPA with minReplicas 0 needs the HPAScaleToZero feature gate (off on
 * the testbed's and most apiservers, which refuse it) and an Object or External metric (CPU has no pods to
 * measure at zero), and a Serve at zero needs something to wake it on a request (Knative's activator, KEDA's
 * HTTP add-on), which Darwin does not run. So zero is refused rather than quietly run as one replica.
 */
const SCALE_TO_ZERO_REASON =
  "(scale to zero) is not supported: the autoscaler cannot scale to zero on CPU and nothing here wakes a Serve on traffic; set replicas.min to 1 or more, or remove spec.model (hermes undeploy) to stop serving";

/** Model URIs a Serve resolves through MLflow, or loads directly from S3. */
export const MODEL_URI = /^(models:\/[^\s]+|mlflow-artifacts:\/[^\s]+|runs:\/[^\s]+|s3:\/\/[^\s]+)$/;

export const ServeSpec = cel(
  z
    .object({
      environment: cel(dnsLabel("Name of the ServeEnvironment to deploy into (hermes --env)"), {
        rule: "self == oldSelf",
        message: "environment is immutable: create a new Serve for another environment",
      }),
      type: z
        .enum(["api", "ray-serve"])
        .default("api")
        .describe(
          "Serving backend: api (a FastAPI Deployment with an HPA) or ray-serve (a KubeRay RayService).",
        ),
      description: z.string().max(1024).optional().describe("What the model serves (hermes --description)."),
      model: z
        .object({
          uri: matching(
            z.string().max(2048),
            MODEL_URI,
            "must be a model URI: models:/<name>@<alias>, models:/<name>/<version>, mlflow-artifacts:/<path>, runs:/<run id>/<path> or s3://<bucket>/<key>, e.g. models:/iris@champion",
          ).describe(
            "Model to serve: models:/<name>@<alias>, models:/<name>/<version>, mlflow-artifacts:/<path>, runs:/<run>/<path> or s3://<bucket>/<key>.",
          ),
        })
        .optional()
        .describe(
          "The model to deploy (hermes deploy-model --model-uri). Without it the Serve is defined but not deployed.",
        ),
      // No schema defaults: a field left unset takes the environment's defaultResources, which a schema
      // default would hide (the stored Serve would carry 1 core whatever its environment says).
      resources: z
        .object({
          cores: cores("each replica").optional(),
          memory: memory("each replica").optional(),
        })
        .optional()
        .describe(
          "Resources per replica (hermes --cores, --memory); a field left unset takes the environment's defaultResources. The ones in effect are in status.currentRevision.",
        ),
      capacity: z
        .enum(["spot", "on-demand"])
        .optional()
        .describe(
          "Capacity class of the nodes to run on: spot (cheaper, may be reclaimed) or on-demand; unset takes the environment's defaultCapacity (status.capacity shows the one in effect).",
        ),
      replicas: cel(
        z
          .object({
            min: z
              .number()
              .int()
              .max(1000)
              // A refinement, not .min(1): the schema's minimum would print the apiserver's bare "should
              // be greater than or equal to 1"; the CEL rule below gives the reason and the fix instead.
              // (The webhook prints the value before the message: "0 (scale to zero) is not ...".)
              .refine((n) => n >= 1, { message: SCALE_TO_ZERO_REASON })
              .default(1)
              .describe(
                "Fewest replicas (hermes --min-replicas), at least 1: Serves do not scale to zero (hermes undeploy stops one).",
              ),
            max: z
              .number()
              .int()
              .min(1)
              .max(1000)
              .default(1)
              .describe("Most replicas (hermes --max-replicas)."),
            targetCPUUtilizationPercent: z
              .number()
              .int()
              .min(1)
              .max(100)
              .default(70)
              .describe("Average CPU utilisation the autoscaler aims for."),
          })
          .default({ min: 1, max: 1, targetCPUUtilizationPercent: 70 })
          .describe("Replica bounds for the autoscaler."),
        {
          rule: "self.min <= self.max",
          message: "replicas.min must be less than or equal to replicas.max",
          fieldPath: ".min",
        },
        { rule: "self.min >= 1", message: `replicas.min 0 ${SCALE_TO_ZERO_REASON}`, fieldPath: ".min" },
      ),
      image: imageRef()
        .optional()
        .describe(
          "Serving image to run; by default the environment's runtime image. Exclusive with artifactBuildRef.",
        ),
      artifactBuildRef: z
        .object({ name: dnsLabel("Name of an ArtifactBuild in the same namespace") })
        .optional()
        .describe("Use the image produced by this ArtifactBuild. Exclusive with image."),
      features: listMap(
        z
          .array(
            z
              .object({
                featureGroup: dnsLabel("Name of a FeatureGroup in the same namespace"),
                version: z
                  .number()
                  .int()
                  .min(1)
                  .optional()
                  .describe("Version to read; the current one if unset."),
              })
              .describe("An online feature group the model reads at inference time."),
          )
          .max(32)
          .default([])
          .describe("Feature groups the model reads online; their server address is injected into the pods."),
        "featureGroup",
      ),
      env: listMap(
        z
          .array(keyValue("environment variable"))
          .max(128)
          .default([])
          .describe("Extra environment variables."),
        "name",
      ),
    })
    .describe("Desired state of a model serve: environment, backend, model, resources and scaling."),
  {
    rule: "!(has(self.image) && has(self.artifactBuildRef))",
    message: "set either image or artifactBuildRef, not both",
    fieldPath: ".image",
  },
);

/** What one rollout serves: the pinned model and the pods' image, resources and placement. */
const revision = z
  .object({
    number: z.number().int().min(1).describe("Revision number."),
    modelURI: z.string().describe("Pinned model URI served, e.g. models:/iris/3 for models:/iris@champion."),
    modelVersion: z.string().optional().describe("Registered model version, when the model is registered."),
    image: z.string().describe("Image of the model server."),
    cores: z.number().describe("CPU cores per replica."),
    memory: z.string().describe("Memory per replica (a Kubernetes quantity)."),
    capacity: z.enum(["spot", "on-demand"]).describe("Capacity class of the nodes."),
    createdAt: z.string().describe("When the revision started rolling out (RFC 3339)."),
    availableAt: z
      .string()
      .optional()
      .describe(
        "When all its replicas first became available (RFC 3339); unset while rolling out or failed.",
      ),
  })
  .describe("One revision of a Serve.");

export const ServeStatus = z
  .object({
    phase: z
      .enum(["Undeployed", "Resolving", "Deploying", "Ready", "Failed"])
      .optional()
      .describe("Summary: Undeployed (no model), Resolving, Deploying, Ready or Failed."),
    url: z
      .string()
      .optional()
      .describe("Where the model answers, e.g. http://iris-classifier.serve.local/predict."),
    resolvedModel: z
      .object({
        name: z.string().optional().describe("Registered model name."),
        version: z.string().optional().describe("Registered model version the alias resolved to."),
        artifactUri: z.string().optional().describe("Download URI of the model's artifacts."),
        runId: z.string().optional().describe("MLflow run that logged the model."),
        experimentId: z.string().optional().describe("MLflow experiment of that run."),
        experimentName: z.string().optional().describe("Name of that experiment."),
      })
      .optional()
      .describe("The concrete model version behind spec.model.uri at the last deployment."),
    replicas: z
      .object({
        ready: z.number().int().min(0).describe("Ready replicas."),
        desired: z.number().int().min(0).describe("Desired replicas."),
      })
      .optional()
      .describe("Replica counts."),
    revision: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Number of the current revision; increments on every change that rolls out new pods."),
    capacity: z
      .enum(["spot", "on-demand"])
      .optional()
      .describe("Capacity class in effect: spec.capacity, or the environment's defaultCapacity."),
    currentRevision: revision.optional().describe("The revision last rolled out (serving once available)."),
    previousRevision: revision
      .optional()
      .describe("The revision before it that was available; hermes rollback returns to it."),
    ...statusBase,
  })
  .describe("Observed state of the serve.");

export const Serve = defineKind({
  kind: "Serve",
  plural: "serves",
  singular: "serve",
  shortNames: ["sv"],
  scope: "Namespaced",
  description:
    "Serve deploys a model (from the MLflow registry or S3) behind an HTTP endpoint, as an autoscaled Deployment or a Ray Serve application.",
  spec: ServeSpec,
  status: ServeStatus,
  // The name becomes a Service name and a host label: an RFC 1035 label of at most 63 characters.
  maxNameLength: 63,
  namePattern: {
    pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    message:
      "the name of a Serve becomes a host name: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, e.g. iris-classifier",
  },
  printerColumns: [
    { name: "Env", type: "string", jsonPath: ".spec.environment", description: "Environment." },
    { name: "Type", type: "string", jsonPath: ".spec.type", description: "Backend." },
    { name: "Model", type: "string", jsonPath: ".spec.model.uri", description: "Model URI." },
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Phase." },
    { name: "URL", type: "string", jsonPath: ".status.url", description: "Endpoint." },
    {
      name: "Replicas",
      type: "integer",
      jsonPath: ".status.replicas.ready",
      description: "Ready replicas.",
      priority: 1,
    },
  ],
});
