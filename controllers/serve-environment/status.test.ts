import { describe, expect, it } from "vitest";
import { computeServeEnvironmentStatus } from "./status.ts";

const NOW = new Date("2026-01-01T00:00:00Z");

describe("computeServeEnvironmentStatus", () => {
  it("lists the Serves that use the environment, sorted", () => {
    const status = computeServeEnvironmentStatus({
      serves: ["serve/b", "serve/a"],
      misplaced: [],
      namespace: "serve",
      now: NOW,
      generation: 1,
    });
    expect(status).toMatchObject({ serves: ["serve/a", "serve/b"], serveCount: 2, observedGeneration: 1 });
    expect(status.conditions?.[0]).toMatchObject({
      status: "True",
      message: "2 Serves in namespace serve use this environment.",
    });
  });

  it("is not Ready while Serves outside its namespace name it", () => {
    const status = computeServeEnvironmentStatus({
      serves: ["team-a/x"],
      misplaced: ["team-a/x"],
      namespace: "serve",
      now: NOW,
    });
    expect(status.conditions?.[0]).toMatchObject({ status: "False", reason: "ServesOutsideNamespace" });
  });
});
