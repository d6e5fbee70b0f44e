import { describe, expect, it } from "vitest";
import { darwinResource } from "../../controllers/shared/resource-types.ts";
import { DarwinCluster } from "../../crds/src/index.ts";
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import type { KubeObject } from "../../operator/resource.ts";
import {
  darwinClusterEvent,
  darwinClusterEvents,
  type LifecycleEvent,
  withLifecycleEvents,
} from "./lifecycle.ts";
import type { EventSink } from "./sink.ts";

const DARWIN_CLUSTERS = darwinResource(DarwinCluster);

const cluster = (phase: string | undefined, resourceVersion: string): KubeObject =>
  ({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "DarwinCluster",
    metadata: { namespace: "team-a", name: "c1", uid: "uid-1", resourceVersion },
    spec: { owner: "ann@example.com", runtime: "Ray2.37.0-Py310-CPU" },
    status: phase ? { phase } : {},
  }) as KubeObject;

describe("darwinClusterEvent", () => {
  it.each([
    [undefined, "Creating", "cluster_created"],
    ["Creating", "Ready", "cluster_ready"],
    ["Ready", "Suspended", "cluster_stopped"],
    ["Suspended", "Creating", "cluster_started"],
    ["Ready", "Failed", "cluster_failed"],
  ])("%s -> %s is %s", (before, after, type) => {
    const event = darwinClusterEvent(cluster(before, "9"), before, after);
    expect(event).toMatchObject({
      id: "darwincluster-uid-1-9",
      namespace: "team-a",
      source: "darwin-compute",
      type,
      payload: { cluster_id: "c1", user: "ann@example.com", phase: after },
    });
  });
});

/** A context whose updateStatus stores the status as the real one does (a new resourceVersion). */
function fakeContext(object: KubeObject): ReconcileContext & { current: KubeObject } {
  const state = { current: object };
  return {
    get object() {
      return state.current;
    },
    get current() {
      return state.current;
    },
    async updateStatus(status) {
      if (JSON.stringify(status) === JSON.stringify(state.current.status)) return false;
      const next = Number(state.current.metadata.resourceVersion) + 1;
      state.current = {
        ...state.current,
        status,
        metadata: { ...state.current.metadata, resourceVersion: String(next) },
      };
      return true;
    },
  } as ReconcileContext & { current: KubeObject };
}

describe("withLifecycleEvents", () => {
  it("publishes once per phase change that was written, with the written version in the id", async () => {
    const published: LifecycleEvent[] = [];
    const sink: EventSink = { publish: (e) => published.push(e), close: async () => undefined };
    let phase = "Creating";
    const controller: ControllerDefinition = {
      name: "darwincluster",
      for: DARWIN_CLUSTERS,
      async reconcile(ctx) {
        await ctx.updateStatus({ phase });
        return undefined;
      },
    };
    const wrapped = withLifecycleEvents(controller, sink, darwinClusterEvents);
    const ctx = fakeContext(cluster(undefined, "1"));
    await wrapped.reconcile(ctx);
    await wrapped.reconcile(ctx); // same phase: nothing written, nothing published
    phase = "Ready";
    await wrapped.reconcile(ctx);
    expect(published.map((e) => [e.type, e.id])).toEqual([
      ["cluster_created", "darwincluster-uid-1-2"],
      ["cluster_ready", "darwincluster-uid-1-3"],
    ]);
  });

  it("publishes the deleted event from a finalizer, after the controller's own", async () => {
    const published: LifecycleEvent[] = [];
    const sink: EventSink = { publish: (e) => published.push(e), close: async () => undefined };
    const order: string[] = [];
    const controller: ControllerDefinition = {
      name: "darwincluster",
      for: DARWIN_CLUSTERS,
      reconcile: async () => undefined,
      async finalize() {
        order.push("own cleanup");
      },
    };
    const events = {
      ...darwinClusterEvents,
      deleted: (object: KubeObject) => {
        order.push("event");
        return { ...darwinClusterEvent(object, "Ready", "Deleted"), type: "cluster_deleted" };
      },
    };
    await withLifecycleEvents(controller, sink, events).finalize?.(fakeContext(cluster("Ready", "4")));
    expect(order).toEqual(["own cleanup", "event"]);
    expect(published.map((e) => e.type)).toEqual(["cluster_deleted"]);
    expect(withLifecycleEvents(controller, sink, darwinClusterEvents).finalize).toBe(controller.finalize);
    // Without a sink the finalizer stays (nothing is published), so turning Chronos off strands no object.
    order.length = 0;
    await withLifecycleEvents(controller, undefined, events).finalize?.(fakeContext(cluster("Ready", "4")));
    expect(order).toEqual(["own cleanup"]);
  });

  it("leaves the controller as it is without a sink", () => {
    const controller = { name: "x" } as ControllerDefinition;
    expect(withLifecycleEvents(controller, undefined, darwinClusterEvents)).toBe(controller);
  });
});
