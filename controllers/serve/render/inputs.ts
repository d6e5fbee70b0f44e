/** What the renders of a Serve read: the Serve, its environment and the revision to run. */
import type { z } from "zod";
import type { ServeEnvironmentSpec } from "../../../api/validation/index.ts";
import type { Serve } from "../../../crds/src/index.ts";
import { darwinKey, MANAGED_BY } from "../../shared/labels.ts";
import type { Revision } from "../revisions.ts";

export type ServeSpec = z.output<typeof Serve.spec>;

export interface ServeInput {
  metadata: { name: string; namespace?: string | undefined };
  spec: ServeSpec;
}

export interface RenderContext {
  serve: ServeInput;
  environment: { name: string; spec: ServeEnvironmentSpec };
  /** The revision the pods run. */
  revision: Revision;
  /** MLflow the model server downloads the model from (MLFLOW_TRACKING_URI), if any. */
  mlflowTrackingURI?: string | undefined;
  /** True when the image is Darwin's MLflow model server (run with the predict server); false for a user image. */
  defaultServer: boolean;
  /** Deployment: seconds before a rollout that is not available counts as failed. */
  rolloutDeadlineSeconds: number;
}

/** Port the model server answers on inside the pod (the predict server, or a user image). */
export const SERVER_PORT = 8080;
/** Port of `mlflow models serve` behind the predict server, inside the pod only. */
export const MLFLOW_PORT = 8081;

/** Labels of every child and pod of a Serve. */
export function serveLabels(serve: ServeInput): Record<string, string> {
  return { ...MANAGED_BY, [darwinKey("serve")]: serve.metadata.name };
}

/** Labels that select the Serve's model-server pods. */
export function selectorLabels(serve: ServeInput): Record<string, string> {
  return { "app.kubernetes.io/name": "model-server", [darwinKey("serve")]: serve.metadata.name };
}

export function childMetadata(serve: ServeInput, name = serve.metadata.name) {
  return {
    name,
    ...(serve.metadata.namespace !== undefined && { namespace: serve.metadata.namespace }),
    labels: { ...serveLabels(serve), ...selectorLabels(serve) },
  };
}

/** Environment of the model server: model, tracking server, feature inputs and the user's variables. */
export function serverEnv(ctx: RenderContext): Array<{ name: string; value: string }> {
  const { serve, environment, revision } = ctx;
  const env = [
    { name: "DARWIN_SERVE_NAME", value: serve.metadata.name },
    { name: "DARWIN_MODEL_URI", value: revision.modelURI },
    { name: "DARWIN_PORT", value: String(SERVER_PORT) },
    { name: "DARWIN_MLFLOW_PORT", value: String(MLFLOW_PORT) },
  ];
  if (ctx.mlflowTrackingURI) env.push({ name: "MLFLOW_TRACKING_URI", value: ctx.mlflowTrackingURI });
  if (serve.spec.features.length > 0) {
    if (environment.spec.featureServerURL) {
      env.push({ name: "DARWIN_FEATURE_SERVER_URL", value: environment.spec.featureServerURL });
    }
    env.push({ name: "DARWIN_FEATURE_GROUPS", value: JSON.stringify(serve.spec.features) });
  }
  const own = new Set(env.map((e) => e.name));
  // The user's variables come last and never replace Darwin's, which the server depends on.
  return [...env, ...serve.spec.env.filter((e) => !own.has(e.name))];
}

/** The URL a user calls: through the Ingress when the environment has an ingress class, else the Service. */
export function serveURL(serve: ServeInput, environment: RenderContext["environment"]): string {
  const name = serve.metadata.name;
  if (environment.spec.ingressClassName) return `http://${serveHost(serve, environment)}/${name}/predict`;
  return `http://${name}.${serve.metadata.namespace ?? environment.spec.namespace}.svc/${name}/predict`;
}

/** Host of a Serve on its environment's domain: iris-classifier + .local = iris-classifier.local. */
export function serveHost(serve: ServeInput, environment: RenderContext["environment"]): string {
  const suffix = environment.spec.domainSuffix.replace(/^\.?/, ".");
  return `${serve.metadata.name}${suffix}`;
}
