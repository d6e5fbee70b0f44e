import { describe, expect, it } from "vitest";
import type { InformerEvent } from "./informer.ts";
import { onlyStatusChanged } from "./manager.ts";
import type { KubeObject } from "./resource.ts";

const base: KubeObject = {
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "ChronosTransformer",
  metadata: {
    name: "r",
    namespace: "n",
    resourceVersion: "1",
    generation: 1,
    labels: { a: "1" },
    finalizers: ["f"],
  },
  spec: { source: "s" },
  status: { processed: 1 },
};
const updated = (change: (o: KubeObject) => KubeObject): InformerEvent => ({
  type: "updated",
  previous: base,
  object: change(structuredClone(base)),
});

describe("onlyStatusChanged", () => {
  it("ignores updates of status, resourceVersion and managedFields alone", () => {
    expect(
      onlyStatusChanged(
        updated((o) => ({
          ...o,
          metadata: { ...o.metadata, resourceVersion: "2", managedFields: [] },
          status: { processed: 2 },
        })),
      ),
    ).toBe(true);
  });

  it.each([
    ["generation", (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, generation: 2 } })],
    ["labels", (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, labels: { a: "2" } } })],
    ["annotations", (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, annotations: { x: "y" } } })],
    ["finalizers", (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } })],
    [
      "deletion",
      (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }),
    ],
    [
      "a top-level field of a kind without status subresource",
      (o: KubeObject) => ({ ...o, data: { k: "v" } }),
    ],
  ])("wakes the reconcile on a change of %s", (_what, change) => {
    expect(onlyStatusChanged(updated(change))).toBe(false);
  });

  it("never filters adds, deletes or resyncs", () => {
    for (const type of ["added", "deleted", "resync"] as const) {
      expect(onlyStatusChanged({ type, object: base })).toBe(false);
    }
  });
});
