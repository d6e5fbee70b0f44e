import { describe, expect, it } from "vitest";
import { type Condition, findCondition, kubeTime, setCondition } from "./conditions.ts";

const t0 = new Date("2026-01-01T10:00:00.123Z");
const t1 = new Date("2026-01-01T11:00:00.999Z");
const ready = (status: Condition["status"], reason = "Applied", message = "ok"): Condition => ({
  type: "Ready",
  status,
  reason,
  message,
  lastTransitionTime: "2026-01-01T10:00:00Z",
  observedGeneration: 1,
});

describe("setCondition", () => {
  it("appends a new type with the current time in whole seconds", () => {
    const out = setCondition(
      undefined,
      { type: "Ready", status: "True", reason: "Applied", message: "ok" },
      { now: t0, observedGeneration: 1 },
    );
    expect(out).toEqual([ready("True")]);
  });

  it("keeps lastTransitionTime when the status stays, and updates reason, message and generation", () => {
    const out = setCondition(
      [ready("True")],
      { type: "Ready", status: "True", reason: "Scaled", message: "3 replicas" },
      { now: t1, observedGeneration: 2 },
    );
    expect(out).toEqual([{ ...ready("True", "Scaled", "3 replicas"), observedGeneration: 2 }]);
  });

  it("moves lastTransitionTime when the status changes", () => {
    const out = setCondition(
      [ready("True")],
      { type: "Ready", status: "False", reason: "Failed", message: "no" },
      { now: t1, observedGeneration: 1 },
    );
    expect(out[0]?.lastTransitionTime).toBe("2026-01-01T11:00:00Z");
    expect(out[0]?.status).toBe("False");
  });

  it("replaces in place, leaves other types and the input alone", () => {
    const other: Condition = { ...ready("True"), type: "Synced" };
    const input = [other, ready("True")];
    const out = setCondition(
      input,
      { type: "Ready", status: "Unknown", reason: "Pending", message: "wait" },
      { now: t1 },
    );
    expect(out.map((c) => c.type)).toEqual(["Synced", "Ready"]);
    expect(out[0]).toBe(other);
    expect(input[1]).toEqual(ready("True"));
    expect(findCondition(out, "Ready")?.observedGeneration).toBeUndefined();
  });

  it("recomputing the same condition gives an equal list", () => {
    const once = setCondition(
      undefined,
      { type: "Ready", status: "True", reason: "A", message: "m" },
      { now: t0, observedGeneration: 3 },
    );
    const twice = setCondition(
      once,
      { type: "Ready", status: "True", reason: "A", message: "m" },
      { now: t1, observedGeneration: 3 },
    );
    expect(twice).toEqual(once);
  });
});

describe("kubeTime", () => {
  it("drops milliseconds", () => expect(kubeTime(t0)).toBe("2026-01-01T10:00:00Z"));
});
