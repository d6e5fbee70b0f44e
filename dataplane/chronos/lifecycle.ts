/**
 * The operator's lifecycle events. `withLifecycleEvents` wraps a controller so that every status write
 * that changes `status.phase` publishes an event to an EventSink: the controller itself stays unaware of
 * Chronos, the event is sent only once the status showing the new phase is stored (a failed write
 * publishes nothing), and the written object's resourceVersion makes the event id unique per transition
 * and stable across a retried delivery.
 */
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { EventInput } from "./event.ts";
import type { EventSink } from "./sink.ts";

export type LifecycleEvent = EventInput & { id: string; namespace: string };

/** Builds the event for a phase change of one kind, or undefined when the change is not worth one. */
export type LifecycleEventBuilder = (
  object: KubeObject,
  before: string | undefined,
  after: string,
) => LifecycleEvent | undefined;

function phaseOf(status: unknown): string | undefined {
  const phase = (status as { phase?: unknown } | undefined)?.phase;
  return typeof phase === "string" ? phase : undefined;
}

export function withLifecycleEvents(
  controller: ControllerDefinition,
  sink: EventSink | undefined,
  build: LifecycleEventBuilder,
): ControllerDefinition {
  if (!sink) return controller;
  return {
    ...controller,
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
    const before = phaseOf(ctx.object.status);
    const written = await ctx.updateStatus(status);
    const after = phaseOf(status);
    if (written && after && after !== before) {
      const event = build(ctx.object, before, after);
      if (event) sink?.publish(event);
    }
    return written;
  }
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
