import { describe, expect, it } from "vitest";
import { decideIdle, type IdleInput, type Probe } from "./activity.ts";

const now = new Date("2026-06-01T12:00:00Z");
const quiet: Probe = { ok: true, activeJobs: 0, aliveActors: 0, busyKernels: 0 };
const input = (overrides: Partial<IdleInput> = {}): IdleInput => ({
  limitMinutes: 30,
  lastActivityTime: "2026-06-01T11:00:00Z",
  runningSince: "2026-06-01T10:00:00Z",
  probe: quiet,
  now,
  ...overrides,
});

describe("decideIdle", () => {
  it("stops a cluster idle longer than its limit, idle since its last activity", () => {
    const decision = decideIdle(input(), 60_000);
    expect(decision.stop).toBe(true);
    expect(decision.idleSince?.toISOString()).toBe("2026-06-01T11:00:00.000Z");
    expect(decision.lastActivityTime).toBe("2026-06-01T11:00:00Z");
  });

  it.each([
    ["a running job", { activeJobs: 1 }],
    ["an alive actor", { aliveActors: 2 }],
    ["a busy kernel", { busyKernels: 1 }],
  ])("never stops a cluster with %s, and records now as its last activity", (_, activity) => {
    const decision = decideIdle(input({ probe: { ...quiet, ...activity } }), 60_000);
    expect(decision.stop).toBe(false);
    expect(decision.lastActivityTime).toBe("2026-06-01T12:00:00Z");
    expect(decision.probeCondition).toMatchObject({ status: "True", reason: "Active" });
  });

  it("does not take a failed probe for idleness", () => {
    const decision = decideIdle(input({ probe: { ok: false, error: "connect ECONNREFUSED" } }), 60_000);
    expect(decision.stop).toBe(false);
    expect(decision.lastActivityTime).toBe("2026-06-01T11:00:00Z");
    expect(decision.probeCondition).toMatchObject({ status: "False", reason: "ProbeFailed" });
    expect(decision.probeCondition.message).toContain("ECONNREFUSED");
  });

  it("counts a restart and the notebook's last activity as activity", () => {
    const restarted = decideIdle(input({ runningSince: "2026-06-01T11:50:00Z" }), 60_000);
    expect(restarted.stop).toBe(false);
    expect(restarted.lastActivityTime).toBe("2026-06-01T11:50:00Z");
    // Looks again when the limit would end, not a whole probe interval later.
    expect(decideIdle(input({ runningSince: "2026-06-01T11:50:00Z" }), 3_600_000).requeueAfterMs).toBe(
      20 * 60_000,
    );
    const typed = decideIdle(
      input({ probe: { ...quiet, jupyterLastActivity: new Date("2026-06-01T11:45:00Z") } }),
      60_000,
    );
    expect(typed.stop).toBe(false);
    expect(typed.lastActivityTime).toBe("2026-06-01T11:45:00Z");
  });

  it("never stops with a limit of 0, and takes fractions of a minute", () => {
    expect(decideIdle(input({ limitMinutes: 0 }), 60_000).stop).toBe(false);
    const seconds = input({
      limitMinutes: 0.1,
      lastActivityTime: "2026-06-01T11:59:55Z",
      runningSince: undefined,
    });
    expect(decideIdle(seconds, 60_000).stop).toBe(false);
    expect(decideIdle({ ...seconds, now: new Date("2026-06-01T12:00:01Z") }, 60_000).stop).toBe(true);
  });
});
