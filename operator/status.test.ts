import { describe, expect, it } from "vitest";
import { setCondition } from "./conditions.ts";
import type { KubeObject } from "./resource.ts";
import { statusDiffers, statusPatch } from "./status.ts";

const now = new Date("2026-02-01T00:00:00Z");
const object = (status?: unknown): KubeObject => ({
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "ChronosTransformer",
  metadata: { name: "r", namespace: "n", resourceVersion: "7", generation: 2 },
  ...(status === undefined ? {} : { status }),
});
const readyTrue = setCondition(
  undefined,
  { type: "Ready", status: "True", reason: "Applied", message: "ok" },
  { now, observedGeneration: 2 },
);

describe("status diffing", () => {
  it("finds no difference when the computed status equals the live one, whatever the key order", () => {
    const live = object({ conditions: readyTrue, observedGeneration: 2, processed: 5 });
    expect(statusDiffers(live, { processed: 5, observedGeneration: 2, conditions: readyTrue })).toBe(false);
  });

  it("finds a difference in observedGeneration alone", () => {
    const live = object({ conditions: readyTrue, observedGeneration: 1 });
    expect(statusPatch(live, { conditions: readyTrue, observedGeneration: 2 })).toEqual({
      observedGeneration: 2,
    });
  });

  it("a condition change patches the whole conditions list", () => {
    const live = object({ conditions: readyTrue, observedGeneration: 2 });
    const failed = setCondition(
      readyTrue,
      { type: "Ready", status: "False", reason: "Broken", message: "x" },
      { now, observedGeneration: 2 },
    );
    expect(statusPatch(live, { conditions: failed, observedGeneration: 2 })).toEqual({ conditions: failed });
  });

  it("a field left out of the computed status is removed, and a missing live status counts as empty", () => {
    expect(
      statusPatch(object({ lastError: "boom", observedGeneration: 2 }), { observedGeneration: 2 }),
    ).toEqual({ lastError: null });
    expect(statusDiffers(object(), {})).toBe(false);
    expect(statusPatch(object(), { observedGeneration: 2 })).toEqual({ observedGeneration: 2 });
  });
});
