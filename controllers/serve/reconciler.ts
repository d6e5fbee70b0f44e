/**
 * The Serve controller: resolves the model through MLflow, keeps the current and previous revision, applies
 * the api children (Deployment, Service, HorizontalPodAutoscaler, Ingress) or the ray-serve RayService, and
 * reports the rollout. A model that cannot be resolved changes nothing that serves.
 */

import {
  formatFieldErrors,
  lookupsFrom,
  memoryQuantity,
  serveEnvironmentRecords,
  validateServe,
} from "../../api/validation/index.ts";
import { ArtifactBuild, FeatureGroup, Serve, ServeEnvironment } from "../../crds/src/index.ts";
import {
  type CacheReader,
  type ControllerDefinition,
  type ReconcileContext,
  type ReconcileResult,
  TerminalError,
} from "../../operator/controller.ts";
import { isPlainObject, type JsonObject } from "../../operator/json.ts";
import { type KubeObject, objectKey, type ResourceType } from "../../operator/resource.ts";
import { imageRepository } from "../artifact-build/image-reference.ts";
import { ARTIFACT_BUILDS } from "../artifact-build/reconciler.ts";
import { deleteOwned } from "../shared/children.ts";
import {
  CONFIG_MAPS,
  DEPLOYMENTS,
  darwinResource,
  HORIZONTAL_POD_AUTOSCALERS,
  INGRESSES,
  RAY_SERVICES,
  SERVICES,
} from "../shared/resource-types.ts";
import { DEFAULT_SERVING, type ServingConfig } from "./config.ts";
import { FEATURES_READY, type FeaturesCondition, featuresCondition } from "./features.ts";
import { MlflowClient } from "./mlflow-client.ts";
import { isMovable, parseModelURI } from "./model-uri.ts";
import type { RenderContext, ServeInput } from "./render/inputs.ts";
import { serveURL } from "./render/inputs.ts";
import { renderAutoscaler, renderDeployment, renderIngress, renderService } from "./render/model-server.ts";
import {
  appConfigMapName,
  rayServiceName,
  renderAppConfigMap,
  renderRayService,
} from "./render/ray-service.ts";
import { type Resolution, resolveModel } from "./resolve.ts";
import { markAvailable, nextRevisions, type Revisions, type ServeStatus } from "./revisions.ts";
import {
  computeServeStatus,
  observeDeployment,
  observeRayService,
  type Rollout,
  WAITING_FOR_BUILD,
} from "./status.ts";

export const SERVES = darwinResource(Serve);
export const SERVE_ENVIRONMENTS = darwinResource(ServeEnvironment);
export const FEATURE_GROUPS = darwinResource(FeatureGroup);

export interface ServeControllerOptions {
  /** @default the operator configuration's defaults (serving) */
  serving?: ServingConfig;
  /** MLflow client per tracking URI; tests pass their own. @default new MlflowClient(uri) */
  mlflow?: (trackingURI: string) => MlflowClient;
}

export function createServeController(options: ServeControllerOptions = {}): ControllerDefinition {
  const serving = options.serving ?? DEFAULT_SERVING;
  const clients = new Map<string, MlflowClient>();
  const mlflow = (uri: string) => {
    let client = clients.get(uri);
    if (!client) {
      client = options.mlflow?.(uri) ?? new MlflowClient(uri);
      clients.set(uri, client);
    }
    return client;
  };
  return {
    name: "serve",
    for: SERVES,
    owns: [DEPLOYMENTS, SERVICES, HORIZONTAL_POD_AUTOSCALERS, INGRESSES, RAY_SERVICES, CONFIG_MAPS],
    watches: [
      // An environment created, changed or deleted re-reconciles its Serves (domain, capacity, MLflow).
      { type: SERVE_ENVIRONMENTS, map: servesOfEnvironment },
      // spec.artifactBuildRef: a build that moves on (succeeds, fails) wakes the Serves waiting for it.
      { type: ARTIFACT_BUILDS, map: servesOfBuild },
      // A feature group created, changed or deleted re-reconciles the Serves reading it (FeaturesReady).
      { type: FEATURE_GROUPS, map: servesReadingFeatureGroup },
    ],
    reconcile: (ctx) => reconcileServe(ctx, serving, mlflow),
  };
}

/** The Serves whose spec.environment names this environment. */
export function servesOfEnvironment(environment: KubeObject, cache: CacheReader): string[] {
  return cache
    .list(SERVES)
    .filter((s) => isPlainObject(s.spec) && s.spec.environment === environment.metadata.name)
    .map((s) => objectKey(s.metadata));
}

/** The Serves of the build's namespace whose spec.artifactBuildRef names it. */
export function servesOfBuild(build: KubeObject, cache: CacheReader): string[] {
  return cache
    .list(SERVES, build.metadata.namespace)
    .filter((s) => {
      const ref = isPlainObject(s.spec) ? s.spec.artifactBuildRef : undefined;
      return isPlainObject(ref) && ref.name === build.metadata.name;
    })
    .map((s) => objectKey(s.metadata));
}

/** The Serves in the group's namespace whose spec.features names it. */
export function servesReadingFeatureGroup(group: KubeObject, cache: CacheReader): string[] {
  return cache
    .list(SERVES, group.metadata.namespace)
    .filter(
      (s) =>
        isPlainObject(s.spec) &&
        Array.isArray(s.spec.features) &&
        s.spec.features.some((f) => isPlainObject(f) && f.featureGroup === group.metadata.name),
    )
    .map((s) => objectKey(s.metadata));
}

const API_CHILDREN: ResourceType[] = [DEPLOYMENTS, SERVICES, HORIZONTAL_POD_AUTOSCALERS, INGRESSES];

async function reconcileServe(
  ctx: ReconcileContext,
  serving: ServingConfig,
  mlflow: (uri: string) => MlflowClient,
): Promise<ReconcileResult | undefined> {
  const object = ctx.object;
  const now = ctx.now();
  const parsed = Serve.spec.safeParse(object.spec);
  const previousStatus = Serve.status.safeParse(object.status ?? {}).data;
  let revisions: Revisions = {
    current: previousStatus?.currentRevision,
    previous: previousStatus?.previousRevision,
  };
  const observed = { generation: object.metadata.generation, previousStatus: object.status, now, revisions };
  if (!parsed.success) {
    const environments = serveEnvironmentRecords(ctx.list(SERVE_ENVIRONMENTS));
    const errors = validateServe(object, object, {
      lookups: lookupsFrom({ serveEnvironments: environments }),
    });
    const message = formatFieldErrors(errors) || parsed.error.message;
    await ctx.updateStatus(
      computeServeStatus({ ...observed, blocker: { reason: "InvalidSpec", message } }) as JsonObject,
    );
    throw new TerminalError("InvalidSpec", message);
  }
  const features = featuresCondition(parsed.data.features, (name) =>
    ctx.cached(FEATURE_GROUPS, object.metadata.namespace, name),
  );
  warnAboutFeatures(ctx, features, previousStatus?.conditions);
  const base = { ...observed, features };
  const serve: ServeInput = {
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
    spec: parsed.data,
  };
  const spec = parsed.data;

  const envObject = ctx.cached(SERVE_ENVIRONMENTS, undefined, spec.environment);
  const envSpec = envObject ? ServeEnvironment.spec.safeParse(envObject.spec) : undefined;
  if (!envSpec?.success) {
    const message = envObject
      ? `ServeEnvironment ${spec.environment} has an invalid spec; fix it (kubectl describe serveenvironment ${spec.environment}).`
      : `ServeEnvironment ${spec.environment} does not exist; create it (hermes create-environment --name ${spec.environment} ...) or set spec.environment to an existing one.`;
    const blocker = { reason: "EnvironmentNotFound", message };
    ctx.event({ type: "Warning", reason: blocker.reason, action: "Reconcile", note: message });
    await ctx.updateStatus(computeServeStatus({ ...base, blocker }) as JsonObject);
    return undefined;
  }
  const environment = { name: spec.environment, spec: envSpec.data };
  const capacity = spec.capacity ?? environment.spec.defaultCapacity;
  const url = serveURL(serve, environment);

  if (!spec.model) {
    // Undeployed (hermes undeploy): nothing runs; an available revision stays as the previous one.
    for (const type of [...API_CHILDREN, RAY_SERVICES]) await deleteOwned(ctx, type, childName(type, serve));
    await deleteOwned(ctx, CONFIG_MAPS, appConfigMapName(serve.metadata.name));
    const { current, previous } = revisions;
    revisions = { previous: current?.availableAt !== undefined ? current : previous };
    await ctx.updateStatus(computeServeStatus({ ...base, revisions, capacity }) as JsonObject);
    return undefined;
  }

  const trackingURI = environment.spec.mlflowTrackingURI ?? serving.mlflowTrackingURI;
  const resolution = await resolveModel(
    spec.model.uri,
    trackingURI ? mlflow(trackingURI) : undefined,
    previousStatus?.resolvedModel,
  );
  const ref = parseModelURI(spec.model.uri);
  const recheck =
    ref && isMovable(ref) ? { requeueAfterMs: serving.modelCheckIntervalSeconds * 1000 } : undefined;
  const image = imageOf(ctx, spec, serving);

  const failure: Resolution | undefined = !resolution.ok
    ? resolution
    : !image.ok
      ? { ok: false, ...image.failure }
      : undefined;
  if (failure && !failure.ok) {
    ctx.event({ type: "Warning", reason: failure.reason, action: "ResolveModel", note: failure.message });
    // Nothing that serves changes: the children stay as they are, the rollout is only observed.
    const rollout = revisions.current ? observe(ctx, serve, revisions.current.number) : undefined;
    await ctx.updateStatus(
      computeServeStatus({
        ...base,
        resolution: failure,
        resolvedModel: previousStatus?.resolvedModel,
        rollout,
        capacity,
        url,
      }) as JsonObject,
    );
    // A missing model or an unreachable MLflow may appear later: look again. (A build that moves on wakes
    // the Serve through the ArtifactBuild watch.)
    return { requeueAfterMs: serving.modelCheckIntervalSeconds * 1000 };
  }

  if (!resolution.ok || !image.ok) throw new Error("unreachable: failures returned above");
  const model = resolution.model;
  const desired = {
    modelURI: model.servedURI,
    ...(model.version !== undefined && { modelVersion: model.version }),
    image: image.image,
    // Field by field: a Serve asking only for more cores keeps its environment's default memory.
    cores: spec.resources?.cores ?? environment.spec.defaultResources.cores,
    memory: memoryQuantity(spec.resources?.memory ?? environment.spec.defaultResources.memory),
    capacity,
  };
  const before = revisions.current?.number;
  revisions = nextRevisions(revisions, desired, now);
  const current = revisions.current;
  if (!current) throw new Error("a resolved model always gives a current revision");
  if (current.number !== before) {
    ctx.event({
      type: "Normal",
      reason: "RolloutStarted",
      action: "Deploy",
      note: `Revision ${current.number} rolls out ${current.modelURI} (${current.cores} cores, ${current.memory}, ${current.capacity}).`,
    });
  }

  const render: RenderContext = {
    serve,
    environment,
    revision: current,
    mlflowTrackingURI: trackingURI,
    defaultServer: image.defaultServer,
    rolloutDeadlineSeconds: serving.rolloutDeadlineSeconds,
  };
  let rollout: Rollout;
  if (spec.type === "api") {
    await deleteOwned(ctx, RAY_SERVICES, rayServiceName(serve.metadata.name));
    await deleteOwned(ctx, CONFIG_MAPS, appConfigMapName(serve.metadata.name));
    const deployment = await ctx.apply(DEPLOYMENTS, renderDeployment(render));
    await ctx.apply(SERVICES, renderService(serve));
    await ctx.apply(HORIZONTAL_POD_AUTOSCALERS, renderAutoscaler(serve));
    if (environment.spec.ingressClassName) await ctx.apply(INGRESSES, renderIngress(serve, environment));
    else await deleteOwned(ctx, INGRESSES, serve.metadata.name);
    rollout = observeDeployment(deployment.object, current.number);
  } else {
    for (const type of API_CHILDREN) await deleteOwned(ctx, type, serve.metadata.name);
    await ctx.apply(CONFIG_MAPS, renderAppConfigMap(serve));
    const rayService = await ctx.apply(
      RAY_SERVICES,
      renderRayService(render, { rayVersion: serving.rayVersion }),
    );
    rollout = observeRayService(rayService.object, current.number, spec.replicas.min);
  }
  if (rollout.state === "available") revisions = markAvailable(revisions, now);
  const resolvedModel: ServeStatus["resolvedModel"] = {
    ...(model.name !== undefined && { name: model.name }),
    ...(model.version !== undefined && { version: model.version }),
    ...(model.artifactUri !== undefined && { artifactUri: model.artifactUri }),
    ...(model.runId !== undefined && { runId: model.runId }),
    ...(model.experimentId !== undefined && { experimentId: model.experimentId }),
    ...(model.experimentName !== undefined && { experimentName: model.experimentName }),
  };
  const status = computeServeStatus({
    ...base,
    revisions,
    resolution,
    resolvedModel,
    rollout,
    capacity,
    url,
  });
  if (status.phase !== previousStatus?.phase && status.phase === "Failed") {
    const ready = status.conditions?.find((c) => c.type === "Ready");
    ctx.event({
      type: "Warning",
      reason: ready?.reason ?? "Failed",
      action: "Deploy",
      note: ready?.message ?? "",
    });
  }
  await ctx.updateStatus(status as JsonObject);
  return recheck;
}

/** A Warning Event when FeaturesReady turns False or names another cause (not on every reconcile). */
function warnAboutFeatures(
  ctx: ReconcileContext,
  features: FeaturesCondition | undefined,
  before: Array<{ type: string; status: string; message: string }> | undefined,
): void {
  if (features?.status !== "False") return;
  const previous = before?.find((c) => c.type === FEATURES_READY);
  if (previous?.status === "False" && previous.message === features.message) return;
  ctx.event({ type: "Warning", reason: features.reason, action: "Reconcile", note: features.message });
}

/** The rollout of the Serve's live child, read from the cache (no request). */
function observe(ctx: ReconcileContext, serve: ServeInput, revision: number): Rollout {
  const namespace = serve.metadata.namespace;
  if (serve.spec.type === "ray-serve") {
    const live = ctx.cached(RAY_SERVICES, namespace, rayServiceName(serve.metadata.name));
    return observeRayService(live, revision, serve.spec.replicas.min);
  }
  return observeDeployment(ctx.cached(DEPLOYMENTS, namespace, serve.metadata.name), revision);
}

type ImageChoice =
  | { ok: true; image: string; defaultServer: boolean }
  | { ok: false; failure: { reason: string; message: string } };

/** spec.image, the image an ArtifactBuild pushed, or Darwin's model server for the Serve's type. */
function imageOf(ctx: ReconcileContext, spec: ServeInput["spec"], serving: ServingConfig): ImageChoice {
  if (spec.image) return { ok: true, image: spec.image, defaultServer: false };
  if (!spec.artifactBuildRef) {
    return { ok: true, image: spec.type === "api" ? serving.image : serving.rayImage, defaultServer: true };
  }
  const name = spec.artifactBuildRef.name;
  const build = ctx.cached(ARTIFACT_BUILDS, ctx.object.metadata.namespace, name);
  const built = build && ArtifactBuild.spec.safeParse(build.spec).data;
  const status = build && ArtifactBuild.status.safeParse(build.status ?? {}).data;
  if (!built || status?.phase !== "Succeeded" || !status.imageDigest) {
    const phase = status?.phase ?? "not started";
    const failed = status?.phase === "Failed" || status?.phase === "Cancelled";
    const why = status?.conditions?.find((c) => c.type === "Succeeded")?.message;
    return {
      ok: false,
      failure: failed
        ? {
            reason: "BuildFailed",
            message: `ArtifactBuild ${name} is ${phase}${why ? `: ${why}` : ""}; point spec.artifactBuildRef at a build that succeeds.`,
          }
        : {
            reason: WAITING_FOR_BUILD,
            message: `Waiting for ArtifactBuild ${name}, which ${build ? `is ${phase}` : "does not exist yet"}; the Serve deploys its image once it has Succeeded.`,
          },
    };
  }
  const image = status.image ?? `${imageRepository(built.output.image)}@${status.imageDigest}`;
  return { ok: true, image, defaultServer: false };
}

const childName = (type: ResourceType, serve: ServeInput): string =>
  type === RAY_SERVICES ? rayServiceName(serve.metadata.name) : serve.metadata.name;
