import { describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { type AlertInput, COST_ALERT, evaluateAlerts, RUNTIME_ALERT, unnotifiedAlerts } from "./alerts.ts";
import { cluster } from "./fixtures.ts";
import type { DarwinClusterStatus } from "./status.ts";

const now = new Date("2026-06-01T12:00:00Z");
const readySince = (time: string): DarwinClusterStatus => ({
  phase: "Ready",
  estimatedCostPerHour: "0.50",
  conditions: [
    { type: "Ready", status: "True", reason: "RayClusterReady", message: "", lastTransitionTime: time },
  ],
});
const input = (overrides: Partial<AlertInput> = {}): AlertInput => ({
  cluster: cluster(),
  status: readySince("2026-06-01T00:00:00Z"),
  defaults: { maxRuntimeHours: 8, maxCostPerDay: 20 },
  now,
  ...overrides,
});

describe("evaluateAlerts", () => {
  it("fires when a cluster has run longer than the operator's limit, with what to do", () => {
    const decision = evaluateAlerts(input());
    expect(decision.fired.map((f) => f.type)).toEqual([RUNTIME_ALERT]);
    const condition = findCondition(decision.conditions, RUNTIME_ALERT);
    expect(condition).toMatchObject({ status: "True", reason: "Exceeded" });
    expect(condition?.message).toContain("running since 2026-06-01T00:00:00Z, longer than its limit of 8 h");
    expect(condition?.message).toContain("spec.suspend");
  });

  it("fires once per breach: the next evaluation keeps the condition as it was and fires nothing", () => {
    const first = evaluateAlerts(input());
    const notified = first.conditions.map((c) =>
      c.type === RUNTIME_ALERT ? { ...c, reason: "Notified" } : c,
    );
    const later = evaluateAlerts({
      ...input({ now: new Date("2026-06-01T13:00:00Z") }),
      status: { ...readySince("2026-06-01T00:00:00Z"), conditions: notified },
    });
    expect(later.fired).toEqual([]);
    expect(later.conditions).toEqual(notified);
    expect(unnotifiedAlerts(later.conditions)).toEqual([]);
  });

  it("ends the breach when the cluster stops, and fires again on the next breach", () => {
    const fired = evaluateAlerts(input()).conditions;
    const stopped = evaluateAlerts(
      input({
        status: {
          phase: "Suspended",
          estimatedCostPerHour: "0.00",
          conditions: fired.map((c) => (c.type === "Ready" ? { ...c, status: "False" as const } : c)),
        },
      }),
    );
    expect(stopped.fired).toEqual([]);
    expect(findCondition(stopped.conditions, RUNTIME_ALERT)).toMatchObject({
      status: "False",
      reason: "WithinLimit",
    });
    // Started again at 06:00: within its limit until 14:00; then it has been running too long again.
    const restarted = stopped.conditions.map((c) =>
      c.type === "Ready" ? { ...c, status: "True" as const, lastTransitionTime: "2026-06-01T06:00:00Z" } : c,
    );
    const status = { ...readySince("2026-06-01T06:00:00Z"), conditions: restarted };
    expect(evaluateAlerts(input({ status })).fired).toEqual([]);
    const breach = evaluateAlerts(input({ status, now: new Date("2026-06-01T14:00:00Z") }));
    expect(breach.fired.map((f) => f.type)).toEqual([RUNTIME_ALERT]);
  });

  it("wakes the cluster when the runtime limit will pass, at most 6 hours ahead", () => {
    expect(evaluateAlerts(input({ status: readySince("2026-06-01T10:00:00Z") })).requeueAfterMs).toBe(
      6 * 3_600_000,
    );
    expect(evaluateAlerts(input({ status: readySince("2026-06-01T06:00:00Z") })).requeueAfterMs).toBe(
      2 * 3_600_000,
    );
    expect(evaluateAlerts(input()).requeueAfterMs).toBeUndefined();
  });

  it("fires on cost per day over the limit; the spec's limits win over the operator's", () => {
    const decision = evaluateAlerts(
      input({
        cluster: cluster({ alerts: { maxRuntimeHours: 0, maxCostPerDay: 5 } }),
        status: readySince("2026-06-01T00:00:00Z"),
      }),
    );
    // 0.50 per hour is 12.00 per day, over 5; the runtime alert is off (0) and has no condition.
    expect(decision.fired.map((f) => f.type)).toEqual([COST_ALERT]);
    expect(findCondition(decision.conditions, COST_ALERT)?.message).toContain(
      "costs 12.00 per day (0.50 per hour), more than its limit of 5 per day",
    );
    expect(findCondition(decision.conditions, RUNTIME_ALERT)).toBeUndefined();
  });

  it("reports a cluster within its limits as such, and a cluster not yet Ready as not running", () => {
    const within = evaluateAlerts(
      input({
        status: readySince("2026-06-01T11:00:00Z"),
        defaults: { maxRuntimeHours: 8, maxCostPerDay: 20 },
      }),
    );
    expect(within.fired).toEqual([]);
    expect(within.conditions.filter((c) => c.type !== "Ready").map((c) => c.reason)).toEqual([
      "WithinLimit",
      "WithinLimit",
    ]);
    const creating = evaluateAlerts(
      input({ status: { phase: "Creating", estimatedCostPerHour: "0.00", conditions: [] } }),
    );
    expect(creating.fired).toEqual([]);
  });
});
