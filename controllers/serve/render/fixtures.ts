/** The seed's iris-classifier Serve in the seed's local environment, as the renders get them. */
import { Serve, ServeEnvironment } from "../../../crds/src/index.ts";
import type { RenderContext } from "./inputs.ts";

export const LOCAL_ENVIRONMENT: RenderContext["environment"] = {
  name: "local",
  spec: ServeEnvironment.spec.parse({
    domainSuffix: ".local",
    clusterName: "kind",
    namespace: "serve",
    ingressClassName: "nginx",
  }),
};

export function irisContext(
  overrides: { spec?: Record<string, unknown>; defaultServer?: boolean } = {},
): RenderContext {
  return {
    serve: {
      metadata: { name: "iris-classifier", namespace: "serve" },
      spec: Serve.spec.parse({
        environment: "local",
        type: "api",
        description: "Iris classification model",
        model: { uri: "models:/iris@champion" },
        resources: { cores: 2, memory: 4 },
        capacity: "spot",
        replicas: { min: 1, max: 2 },
        ...overrides.spec,
      }),
    },
    environment: LOCAL_ENVIRONMENT,
    revision: {
      number: 3,
      modelURI: "models:/iris/3",
      modelVersion: "3",
      image: "ghcr.io/mlflow/mlflow:v3.17.2-full",
      cores: 2,
      memory: "4Gi",
      capacity: "spot",
      createdAt: "2026-01-01T00:00:00.000Z",
    },
    mlflowTrackingURI: "http://mlflow.darwin-system.svc:5000",
    defaultServer: overrides.defaultServer ?? true,
    rolloutDeadlineSeconds: 600,
  };
}
