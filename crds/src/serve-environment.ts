/** ServeEnvironment: where and how Serves of one environment run (hermes create-environment). */
import { z } from "zod";
import { capacity, cores, dnsLabel, matching, memory, statusBase } from "./common.ts";
import { defineKind } from "./kind.ts";

export const ServeEnvironmentSpec = z
  .object({
    domainSuffix: matching(
      z.string().min(1).max(200),
      /^\.?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
      "must be a DNS domain in lower case, optionally starting with '.', e.g. .local or .models.example.com",
    ).describe(
      "Domain appended to serve hosts, e.g. .local gives iris-classifier.local (hermes --domain-suffix).",
    ),
    clusterName: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe("Name of the Kubernetes cluster, for display and URLs (hermes --cluster-name)."),
    namespace: dnsLabel("Namespace the environment's Serves live in").default("serve"),
    ingressClassName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("IngressClass for serve endpoints; no Ingress is made when unset."),
    defaultCapacity: capacity("on-demand"),
    defaultResources: z
      .object({
        cores: cores("each replica of a Serve that sets none").default(1),
        memory: memory("each replica of a Serve that sets none").default("2Gi"),
      })
      .default({ cores: 1, memory: "2Gi" })
      .describe(
        "Resources per replica of the environment's Serves that do not set spec.resources (field by field).",
      ),
    mlflowTrackingURI: matching(
      z.string().max(2048),
      /^https?:\/\//,
      "must be an http:// or https:// URL, e.g. http://mlflow.mlflow.svc:5000",
    )
      .optional()
      .describe(
        "MLflow tracking server that resolves models:/ and mlflow-artifacts:/ URIs for this environment.",
      ),
    featureServerURL: matching(
      z.string().max(2048),
      /^https?:\/\//,
      "must be an http:// or https:// URL, e.g. http://feature-server.darwin.svc:8080",
    )
      .optional()
      .describe("Feature server the environment's models read online features from."),
  })
  .describe(
    "Defaults for the Serves of one environment: domain, namespace, ingress, capacity and registries.",
  );

export const ServeEnvironmentStatus = z
  .object({
    serves: z
      .array(z.string().describe("namespace/name of a Serve."))
      .max(1000)
      .optional()
      .describe("The Serves deployed into this environment, as namespace/name."),
    serveCount: z.number().int().min(0).optional().describe("How many Serves use this environment."),
    ...statusBase,
  })
  .describe("Observed state of the environment.");

export const ServeEnvironment = defineKind({
  kind: "ServeEnvironment",
  plural: "serveenvironments",
  singular: "serveenvironment",
  shortNames: ["senv"],
  scope: "Cluster",
  description:
    "ServeEnvironment holds the defaults of one serving environment (dev, staging, prod): domain suffix, namespace, ingress class, capacity and model registry.",
  spec: ServeEnvironmentSpec,
  status: ServeEnvironmentStatus,
  maxNameLength: 63,
  printerColumns: [
    { name: "Domain", type: "string", jsonPath: ".spec.domainSuffix", description: "Domain suffix." },
    {
      name: "Namespace",
      type: "string",
      jsonPath: ".spec.namespace",
      description: "Namespace of its Serves.",
    },
    { name: "Cluster", type: "string", jsonPath: ".spec.clusterName", description: "Cluster name." },
    { name: "Serves", type: "integer", jsonPath: ".status.serveCount", description: "Serves using it." },
  ],
});
