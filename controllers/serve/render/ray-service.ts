/**
 * The KubeRay RayService (ray.io/v1) of a ray-serve Serve: a Ray cluster (head plus an autoscaled worker
 * group on the Serve's capacity class) running Darwin's Ray Serve application, which loads the revision's
 * model with mlflow.pyfunc. The application's module comes from a ConfigMap mounted on every Ray pod. Pure.
 */
import type { V1ConfigMap, V1Container, V1Volume } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { memoryQuantity } from "../../../api/validation/index.ts";
import type { RayService } from "../../shared/kuberay.ts";
import { dns1035Name } from "../../shared/names.ts";
import { placement } from "../../shared/placement.ts";
import type { Rendered } from "../../shared/rendered.ts";
import { CONFIG_MAPS } from "../../shared/resource-types.ts";
import { RAY_SERVE_APP_SOURCE } from "../server/sources.ts";
import { childMetadata, type RenderContext, type ServeInput, serverEnv } from "./inputs.ts";
import { REVISION_LABEL } from "./model-server.ts";

/** Where the application module is mounted, and its import path. */
const APP_DIR = "/opt/darwin/serve";
export const RAY_SERVE_IMPORT_PATH = "darwin_serve:app";
/** mlflow for the application's runtime_env: the Ray image does not carry it. */
export const RAY_SERVE_PIP = ["mlflow==3.17.2"];

/** KubeRay appends suffixes (-raycluster-xxxxx-head-svc) to a RayService's name: keep it short. */
export const rayServiceName = (serveName: string): string => dns1035Name(serveName, 40);
export const appConfigMapName = (serveName: string): string => dns1035Name(serveName, 63, "-ray-serve-app");

export function renderAppConfigMap(serve: ServeInput): Rendered<V1ConfigMap> {
  return {
    apiVersion: CONFIG_MAPS.apiVersion,
    kind: CONFIG_MAPS.kind,
    metadata: childMetadata(serve, appConfigMapName(serve.metadata.name)),
    data: { "darwin_serve.py": RAY_SERVE_APP_SOURCE },
  };
}

export interface RayServiceOptions {
  rayVersion: string;
}

export function renderRayService(ctx: RenderContext, options: RayServiceOptions): RayService {
  const { serve, revision } = ctx;
  const name = serve.metadata.name;
  const amounts = { cpu: String(revision.cores), memory: memoryQuantity(revision.memory) };
  const env = Object.fromEntries(serverEnv(ctx).map((e) => [e.name, e.value]));
  const serveConfig = {
    applications: [
      {
        name,
        route_prefix: `/${name}`,
        import_path: RAY_SERVE_IMPORT_PATH,
        runtime_env: { env_vars: env, pip: RAY_SERVE_PIP },
        deployments: [
          {
            name: "Model",
            autoscaling_config: {
              min_replicas: serve.spec.replicas.min,
              max_replicas: serve.spec.replicas.max,
            },
            ray_actor_options: { num_cpus: revision.cores },
          },
        ],
      },
    ],
  };
  const volume: V1Volume = { name: "darwin-serve-app", configMap: { name: appConfigMapName(name) } };
  const container = (containerName: string): V1Container => ({
    name: containerName,
    image: revision.image,
    env: [{ name: "PYTHONPATH", value: APP_DIR }],
    resources: { requests: amounts, limits: { ...amounts } },
    volumeMounts: [{ name: volume.name, mountPath: APP_DIR, readOnly: true }],
  });
  const podLabels = { ...childMetadata(serve).labels, [REVISION_LABEL]: String(revision.number) };
  return {
    apiVersion: "ray.io/v1",
    kind: "RayService",
    metadata: childMetadata(serve, rayServiceName(name)),
    spec: {
      serveConfigV2: stringify(serveConfig),
      rayClusterConfig: {
        rayVersion: options.rayVersion,
        enableInTreeAutoscaling: true,
        headGroupSpec: {
          rayStartParams: { "dashboard-host": "0.0.0.0", "num-cpus": "0" },
          template: {
            metadata: { labels: podLabels },
            spec: { containers: [container("ray-head")], volumes: [volume], ...placement("on-demand") },
          },
        },
        workerGroupSpecs: [
          {
            groupName: "serve",
            replicas: serve.spec.replicas.min,
            minReplicas: serve.spec.replicas.min,
            maxReplicas: serve.spec.replicas.max,
            rayStartParams: {},
            template: {
              metadata: { labels: podLabels },
              spec: {
                containers: [container("ray-worker")],
                volumes: [volume],
                ...placement(revision.capacity),
              },
            },
          },
        ],
      },
    },
  };
}
