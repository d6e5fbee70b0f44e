/**
 * The values of charts/darwin, as a zod schema: `config` is the operator's own configuration schema
 * (cmd/config.ts), so the chart's values.schema.json rejects exactly what the operator would reject at
 * start, with the same field paths. The other sections describe what the chart renders around it.
 */
import { z } from "zod";
import { darwinConfig } from "../../cmd/config.ts";

const quantity = z.union([
  z.string().regex(/^[0-9.]+[a-zA-Z]*$/, "must be a Kubernetes quantity"),
  z.number(),
]);
const resources = z
  .strictObject({
    requests: z.record(z.string(), quantity).optional(),
    limits: z.record(z.string(), quantity).optional(),
  })
  .describe("Container resources (requests and limits).");
const replicas = z.number().int().min(0);

const image = z.strictObject({
  repository: z.string().min(1).describe("Image of Node 24 and Darwin (hack/images/darwin)."),
  tag: z.string().min(1),
  pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]),
});

const service = (what: string) =>
  z.strictObject({
    enabled: z.boolean().describe(`Deploy ${what}.`),
    replicas,
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .describe("Port the container listens on and the Service exposes."),
    resources,
    extraEnv: z
      .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"), z.string())
      .optional()
      .describe("More DARWIN_* variables of this program."),
  });

export const chartValues = z.strictObject({
  image,
  imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })),
  operator: z.strictObject({
    replicas: replicas.describe(
      "Operator replicas; one leads (config.leaderElection), all serve the webhook.",
    ),
    resources,
    maxOldSpaceMiB: z
      .number()
      .int()
      .min(64)
      .describe(
        "Node's --max-old-space-size for the operator: about three quarters of resources.limits.memory, so V8 collects before the limit is reached; a small limit also makes V8 grow the heap less after each collection.",
      ),
    podDisruptionBudget: z.strictObject({ enabled: z.boolean(), minAvailable: z.number().int().min(0) }),
    nodeSelector: z.record(z.string(), z.string()),
    tolerations: z.array(z.record(z.string(), z.unknown())),
    affinity: z.record(z.string(), z.unknown()),
  }),
  config: darwinConfig.schema.describe(
    "The operator's configuration file (cmd/config.ts). leaderElection.namespace, webhook.certificates.namespace and serviceName, and webhook.configuration are set by the chart.",
  ),
  webhook: z.strictObject({
    failurePolicy: z
      .enum(["Fail", "Ignore"])
      .describe(
        "Fail: Darwin objects cannot be written while no replica answers (the webhook's checks are never skipped).",
      ),
    timeoutSeconds: z.number().int().min(1).max(30),
    certManager: z
      .strictObject({
        issuerRef: z.strictObject({ name: z.string(), kind: z.enum(["Issuer", "ClusterIssuer"]) }),
      })
      .describe(
        "config.webhook.certificates.mode=cert-manager: the issuer of the serving certificate; empty name: a self-signed Issuer.",
      ),
  }),
  stores: z
    .strictObject({
      existingSecret: z
        .string()
        .describe(
          "A Secret of yours with the keys mysql-url, s3-access-key-id and s3-secret-access-key (each optional); empty: the chart makes one from the values.",
        ),
      mysql: z.strictObject({
        url: z
          .string()
          .regex(/^(mysql:\/\/.*)?$/, "must be mysql://user:password@host:port/database")
          .describe("MySQL or MariaDB of Chronos, the catalog and the feature store registry."),
      }),
      cassandra: z.strictObject({
        contactPoints: z.array(z.string().min(1)).describe("host:port of your Cassandra."),
        localDataCenter: z.string().min(1),
      }),
      kafka: z.strictObject({ brokers: z.array(z.string().min(1)).describe("host:port of your Kafka.") }),
      offlineStore: z
        .strictObject({
          uri: z
            .string()
            .regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?)?$/, "must be an s3://bucket/prefix URI")
            .describe(
              "The offline store (s3://bucket/prefix): the materializer writes every row there, the feature server reads training sets from it; empty: none.",
            ),
          endpoint: z
            .string()
            .regex(/^(https?:\/\/.+)?$/, "must be an http(s) URL")
            .describe("The S3 service's endpoint URL; empty: AWS's."),
          region: z.string().min(1),
          accessKeyId: z
            .string()
            .describe("Goes into the stores Secret (key s3-access-key-id); empty: the SDK's default chain."),
          secretAccessKey: z.string().describe("Goes into the stores Secret (key s3-secret-access-key)."),
        })
        .describe("Your S3 holding the offline store."),
    })
    .describe("Your data stores: the chart runs none of them."),
  dataplane: z.strictObject({
    featureServer: service("the online feature server (cmd/feature-server.ts)").extend({
      autoscaling: z.strictObject({
        enabled: z.boolean(),
        minReplicas: z.number().int().min(1),
        maxReplicas: z.number().int().min(1),
        targetCPUUtilizationPercentage: z.number().int().min(1).max(100),
      }),
    }),
    materializer: service(
      "the materializer: feature topics into the online and offline stores (cmd/materializer.ts); port of /metrics and probes",
    ),
    chronos: service("the Chronos event API (cmd/chronos.ts)"),
    chronosProcessor: service("the Chronos processor (cmd/chronos-processor.ts)").omit({ port: true }),
    catalog: service("the catalog API (cmd/catalog.ts)"),
  }),
  defaults: z
    .strictObject({ runtimes: z.boolean(), serveEnvironment: z.boolean() })
    .describe("Install the default DarwinRuntime and the `local` ServeEnvironment (samples/)."),
  networkPolicies: z.strictObject({
    enabled: z.boolean(),
    apiserverCIDRs: z
      .array(z.string().min(1))
      .describe("Where the apiserver calls the webhook from; empty allows the webhook port from anywhere."),
  }),
  grafanaDashboard: z
    .strictObject({
      enabled: z
        .boolean()
        .describe("A ConfigMap holding Darwin's Grafana dashboard (dashboards/darwin.json)."),
      labels: z
        .record(z.string(), z.string())
        .describe(
          'Labels of the ConfigMap: what Grafana\'s dashboard sidecar selects (grafana_dashboard: "1").',
        ),
      annotations: z.record(z.string(), z.string()).describe("e.g. the sidecar's folder annotation."),
    })
    .describe("Grafana's dashboard sidecar loads the dashboard from the ConfigMap."),
  serviceMonitor: z.strictObject({
    enabled: z
      .boolean()
      .describe("A prometheus-operator ServiceMonitor for the operator and the data plane."),
    interval: z.string().regex(/^[0-9]+[smh]$/, "must be a duration like 30s"),
    labels: z.record(z.string(), z.string()),
  }),
});

export type ChartValues = z.infer<typeof chartValues>;

/** JSON Schema of the values (what Helm validates before rendering). */
export function valuesJsonSchema(): object {
  return z.toJSONSchema(chartValues, { io: "input", unrepresentable: "any" });
}
