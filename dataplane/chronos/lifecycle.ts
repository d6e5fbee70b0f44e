/**
 * The operator's lifecycle events. `withLifecycleEvents` wraps a controller so that every status write
 * publishes the events the change gives (its kind's `LifecycleEvents` compare the status before and after)
 * to an EventSink, and the deletion of an object publishes its `deleted` event from a finalizer. The
 * controller itself stays unaware of Chronos; an event is sent only once the status showing the change is
 * stored (a failed write publishes nothing), and the written object's resourceVersion makes the event id
 * unique per transition and stable across a retried delivery.
 */
import { type Condition, FeatureGroup, Serve } from "../../crds/src/index.ts";
import { findCondition } from "../../operator/conditions.ts";
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { EventInput } from "./event.ts";
import type { EventSink } from "./sink.ts";

export type LifecycleEvent = EventInput & { id: string; namespace: string };

/** The events of one kind. */
export interface LifecycleEvents {
  /** The events a stored status change gives: `written` is the object as stored, `before` the old status. */
  changed(written: KubeObject, before: unknown): LifecycleEvent[];
  /**
   * The event of the object's deletion. When present the wrapped controller gets a finalizer (its own
   * `finalize` runs first), with or without a sink, so the event is published even if the operator was down
   * when the user deleted.
   */
  deleted?(object: KubeObject): LifecycleEvent;
}

/** Builds the event for a phase change of one kind, or undefined when the change is not worth one. */
export type PhaseEventBuilder = (
  object: KubeObject,
  before: string | undefined,
  after: string,
) => LifecycleEvent | undefined;

function phaseOf(status: unknown): string | undefined {
  const phase = (status as { phase?: unknown } | undefined)?.phase;
  return typeof phase === "string" ? phase : undefined;
}

/** One event per change of `status.phase`. */
export function onPhaseChange(build: PhaseEventBuilder): LifecycleEvents {
  return {
    changed(written, before) {
      const from = phaseOf(before);
      const to = phaseOf(written.status);
      const event = to && to !== from ? build(written, from, to) : undefined;
      return event ? [event] : [];
    },
  };
}

export function withLifecycleEvents(
  controller: ControllerDefinition,
  sink: EventSink | undefined,
  events: LifecycleEvents,
): ControllerDefinition {
  const { deleted } = events;
  // A kind with a deletion event keeps its finalizer whether or not events are sent, so that turning Chronos
  // off never leaves objects carrying a finalizer no controller removes.
  const finalize = deleted && {
    async finalize(ctx: ReconcileContext) {
      await controller.finalize?.(ctx);
      sink?.publish(deleted(ctx.object));
    },
  };
  if (!sink) return finalize ? { ...controller, ...finalize } : controller;
  return {
    ...controller,
    ...finalize,
    reconcile(ctx) {
      const observed = new Proxy(ctx, {
        get(target, property) {
          if (property === "updateStatus") return (status: JsonObject) => updateAndPublish(target, status);
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      return controller.reconcile(observed);
    },
  };

  async function updateAndPublish(ctx: ReconcileContext, status: JsonObject): Promise<boolean> {
    const before = ctx.object.status;
    const written = await ctx.updateStatus(status);
    if (written) for (const event of events.changed(ctx.object, before)) sink?.publish(event);
    return written;
  }
}

/** The id of an event of one stored version of an object: unique per write and type, stable on retries. */
function eventId(object: KubeObject, type: string): string {
  return `${object.kind.toLowerCase()}-${object.metadata.uid}-${object.metadata.resourceVersion}-${type}`;
}

const CLUSTER_EVENT_TYPES: Record<string, string> = {
  Ready: "cluster_ready",
  Suspending: "cluster_stopping",
  Suspended: "cluster_stopped",
  Failed: "cluster_failed",
};

/**
 * DarwinCluster phase changes as the seed's darwin-compute events: cluster_created on the first phase,
 * then cluster_ready, cluster_stopping, cluster_stopped, cluster_started (Creating after a stop),
 * cluster_failed. The payload carries what transformers need: cluster_id, user (the owner), phase.
 */
export function darwinClusterEvent(
  object: KubeObject,
  before: string | undefined,
  after: string,
): LifecycleEvent {
  const spec = (object.spec ?? {}) as { owner?: string; runtime?: string };
  const type =
    before === undefined
      ? "cluster_created"
      : (CLUSTER_EVENT_TYPES[after] ??
        (after === "Creating" && (before === "Suspended" || before === "Suspending")
          ? "cluster_started"
          : "cluster_phase_changed"));
  return {
    id: `darwincluster-${object.metadata.uid}-${object.metadata.resourceVersion}`,
    namespace: object.metadata.namespace ?? "default",
    source: "darwin-compute",
    type,
    payload: {
      cluster_id: object.metadata.name,
      cluster_uid: object.metadata.uid,
      user: spec.owner,
      runtime: spec.runtime,
      phase: after,
      previous_phase: before ?? null,
    },
  };
}

/** DarwinCluster's events: one per phase change (darwinClusterEvent). */
export const darwinClusterEvents: LifecycleEvents = onPhaseChange(darwinClusterEvent);

type FeatureGroupStatus = NonNullable<ReturnType<typeof FeatureGroup.status.safeParse>["data"]>;

const readyOf = (status: { conditions?: Condition[] | undefined } | undefined) =>
  findCondition(status?.conditions, "Ready");

/**
 * FeatureGroup's events (source darwin-feature-store): feature_group_created on the first status,
 * feature_group_version_changed when the served version moves, feature_group_ready when Ready turns True,
 * feature_group_failed when it turns False (or False for another reason), feature_group_deleted. The payload
 * names the group, its current version and every served version, the table and topic, and the owner.
 */
export const featureGroupEvents: LifecycleEvents = {
  changed(written, beforeStatus) {
    const status: FeatureGroupStatus = FeatureGroup.status.safeParse(written.status ?? {}).data ?? {};
    const before: FeatureGroupStatus = FeatureGroup.status.safeParse(beforeStatus ?? {}).data ?? {};
    const ready = readyOf(status);
    const wasReady = readyOf(before);
    const types: string[] = [];
    if (!before.conditions && before.servedVersion === undefined) types.push("feature_group_created");
    else if (status.servedVersion !== undefined && status.servedVersion !== before.servedVersion)
      types.push("feature_group_version_changed");
    if (ready?.status === "True" && wasReady?.status !== "True") types.push("feature_group_ready");
    if (ready?.status === "False" && (wasReady?.status !== "False" || wasReady.reason !== ready.reason))
      types.push("feature_group_failed");
    return types.map((type) => featureGroupEvent(written, type, status, before.servedVersion));
  },
  deleted: (object) =>
    featureGroupEvent(
      object,
      "feature_group_deleted",
      FeatureGroup.status.safeParse(object.status ?? {}).data ?? {},
      undefined,
    ),
};

function featureGroupEvent(
  object: KubeObject,
  type: string,
  status: FeatureGroupStatus,
  previousVersion: number | undefined,
): LifecycleEvent {
  const spec = (object.spec ?? {}) as { version?: number; owner?: string; description?: string };
  const ready = readyOf(status);
  return {
    id: eventId(object, type),
    namespace: object.metadata.namespace ?? "default",
    source: "darwin-feature-store",
    type,
    payload: {
      feature_group: object.metadata.name,
      feature_group_uid: object.metadata.uid,
      version: status.servedVersion ?? spec.version ?? 1,
      previous_version: previousVersion ?? null,
      versions: status.servedVersions ?? [status.servedVersion ?? spec.version ?? 1],
      table: status.table ?? null,
      topic: status.topic ?? null,
      owner: spec.owner ?? null,
      description: spec.description ?? null,
      reason: ready?.reason ?? null,
      message: ready?.message ?? null,
    },
  };
}

type ServeStatus = NonNullable<ReturnType<typeof Serve.status.safeParse>["data"]>;

/**
 * Serve's events (source darwin-serve): serve_created on the first phase, serve_model_resolved when the
 * registered model name or version behind spec.model.uri changes (what MLflow resolved it to),
 * serve_ready and serve_failed when the phase becomes Ready or Failed, serve_deleted. The payload names the
 * serve, its environment, the model URI, the resolved model (name, version, artifact URI, the MLflow run
 * that logged it and the run's experiment), the revision, and the feature groups the model reads.
 */
export const serveEvents: LifecycleEvents = {
  changed(written, beforeStatus) {
    const status: ServeStatus = Serve.status.safeParse(written.status ?? {}).data ?? {};
    const before: ServeStatus = Serve.status.safeParse(beforeStatus ?? {}).data ?? {};
    const types: string[] = [];
    if (before.phase === undefined && status.phase !== undefined) types.push("serve_created");
    const model = status.resolvedModel;
    if (
      model?.version !== undefined &&
      (model.version !== before.resolvedModel?.version || model.name !== before.resolvedModel?.name)
    )
      types.push("serve_model_resolved");
    if (status.phase !== before.phase && (status.phase === "Ready" || status.phase === "Failed"))
      types.push(status.phase === "Ready" ? "serve_ready" : "serve_failed");
    return types.map((type) => serveEvent(written, type, status));
  },
  deleted: (object) =>
    serveEvent(object, "serve_deleted", Serve.status.safeParse(object.status ?? {}).data ?? {}),
};

function serveEvent(object: KubeObject, type: string, status: ServeStatus): LifecycleEvent {
  const spec = (object.spec ?? {}) as {
    environment?: string;
    type?: string;
    model?: { uri?: string };
    features?: Array<{ featureGroup: string; version?: number }>;
  };
  const ready = readyOf(status);
  return {
    id: eventId(object, type),
    namespace: object.metadata.namespace ?? "default",
    source: "darwin-serve",
    type,
    payload: {
      serve: object.metadata.name,
      serve_uid: object.metadata.uid,
      environment: spec.environment ?? null,
      serve_type: spec.type ?? null,
      phase: status.phase ?? null,
      url: status.url ?? null,
      model_uri: spec.model?.uri ?? null,
      model_name: status.resolvedModel?.name ?? null,
      model_version: status.resolvedModel?.version ?? null,
      model_artifact_uri: status.resolvedModel?.artifactUri ?? null,
      model_run_id: status.resolvedModel?.runId ?? null,
      model_experiment_id: status.resolvedModel?.experimentId ?? null,
      model_experiment_name: status.resolvedModel?.experimentName ?? null,
      revision: status.revision ?? null,
      feature_groups: (spec.features ?? []).map((f) => ({
        name: f.featureGroup,
        version: f.version ?? null,
      })),
      reason: ready?.reason ?? null,
      message: ready?.message ?? null,
    },
  };
}
