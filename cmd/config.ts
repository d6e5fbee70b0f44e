/**
 * Darwin's operator configuration: the runtime's settings (operator/config.ts) plus the application's
 * sections, the admission webhook (`webhook`), the prices clusters are costed at (`capacityClasses`), the
 * DarwinClusters' runtime and cost alerts (`alerts`), the Ray autoscaler's resources (`rayAutoscaler`),
 * model serving (`serving`), image builds (`artifactBuilds`) and where the operator reaches each cluster's Ray dashboard and Jupyter server
 * (`clusterEndpoints`).
 */
import { artifactBuildsConfig } from "../controllers/artifact-build/config.ts";
import { alertsConfig } from "../controllers/darwin-cluster/alerts.ts";
import { autoscalerConfig } from "../controllers/darwin-cluster/autoscaler.ts";
import { capacityPrices } from "../controllers/darwin-cluster/prices.ts";
import { featureStoreConfig } from "../controllers/feature-group/config.ts";
import { servingConfig } from "../controllers/serve/config.ts";
import { clusterEndpoints } from "../controllers/shared/endpoints.ts";
import { extendConfig, parseConfig } from "../operator/config.ts";
import { webhookConfig } from "../webhooks/config.ts";

export const darwinConfig = extendConfig(
  {
    webhook: webhookConfig,
    capacityClasses: capacityPrices,
    alerts: alertsConfig,
    rayAutoscaler: autoscalerConfig,
    serving: servingConfig,
    artifactBuilds: artifactBuildsConfig,
    featureStore: featureStoreConfig,
    clusterEndpoints,
  },
  [
    { name: "DARWIN_WEBHOOK_ENABLED", path: ["webhook", "enabled"], kind: "boolean" },
    { name: "DARWIN_WEBHOOK_PORT", path: ["webhook", "port"], kind: "number" },
    { name: "DARWIN_MLFLOW_URL", path: ["serving", "mlflowTrackingURI"], kind: "string" },
    { name: "DARWIN_SERVING_IMAGE", path: ["serving", "image"], kind: "string" },
    { name: "DARWIN_CASSANDRA_CONTACT", path: ["featureStore", "cassandra", "contactPoints"], kind: "list" },
    {
      name: "DARWIN_CASSANDRA_DATACENTER",
      path: ["featureStore", "cassandra", "localDataCenter"],
      kind: "string",
    },
    { name: "DARWIN_KAFKA_BROKERS", path: ["featureStore", "kafka", "brokers"], kind: "list" },
    { name: "DARWIN_MYSQL_URL", path: ["featureStore", "mysqlUrl"], kind: "string" },
    { name: "DARWIN_RAY_DASHBOARD_URL", path: ["clusterEndpoints", "rayDashboard"], kind: "string" },
    { name: "DARWIN_JUPYTER_URL", path: ["clusterEndpoints", "jupyter"], kind: "string" },
  ],
);

export type DarwinConfig = ReturnType<typeof darwinConfig.schema.parse>;

/** The configuration with every default (what the generated RBAC is made for). */
export const defaultDarwinConfig = (): DarwinConfig => parseConfig({}, {}, darwinConfig);
