import { describe, expect, it } from "vitest";
import { computeDarwinJobStatus } from "./status.ts";

const context = {
  submissionId: "darwin-team-a-train-1234abcd",
  dashboardURL: "http://train-head-svc.team-a.svc:8265",
  generation: 1,
  now: new Date("2026-06-01T10:00:00Z"),
};

describe("computeDarwinJobStatus", () => {
  it("mirrors Ray's status, times and the last lines of the log", () => {
    const logs = `${Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n")}\n`;
    const status = computeDarwinJobStatus(
      {},
      {
        kind: "ray",
        info: {
          status: "SUCCEEDED",
          message: "Job finished successfully.",
          start_time: 1780308000000,
          end_time: 1780308065000,
        },
        logs,
      },
      context,
    );
    expect(status).toMatchObject({
      jobStatus: "SUCCEEDED",
      submissionId: context.submissionId,
      startTime: "2026-06-01T10:00:00Z",
      endTime: "2026-06-01T10:01:05Z",
    });
    expect(status.logTail?.split("\n")).toHaveLength(20);
    expect(status.logTail?.split("\n").at(-1)).toBe("line 29");
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", reason: "Succeeded" });
  });

  it("puts Ray's error of a failed job in the Ready condition", () => {
    const message = "Job entrypoint command failed with exit code 1";
    const status = computeDarwinJobStatus(
      {},
      { kind: "ray", info: { status: "FAILED", message }, logs: "" },
      context,
    );
    expect(status.conditions?.[0]).toMatchObject({ status: "False", reason: "Failed", message });
  });

  it("keeps what Ray said last when the job cannot be read, and says why", () => {
    const previous = {
      jobStatus: "RUNNING" as const,
      submissionId: context.submissionId,
      logTail: "epoch 1",
    };
    const status = computeDarwinJobStatus(
      previous,
      { kind: "blocked", reason: "DashboardUnreachable", message: "connect ECONNREFUSED" },
      context,
    );
    expect(status).toMatchObject(previous);
    expect(status.conditions?.[0]).toMatchObject({ status: "False", reason: "DashboardUnreachable" });
  });
});
