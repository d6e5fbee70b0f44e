/**
 * Argo CD's health checks of Darwin's kinds (charts/darwin/argocd/argocd-cm.yaml, what users merge into
 * argocd-cm), run in a Lua VM against objects recorded from the testbed's operator: Healthy, Progressing,
 * Degraded with the condition's message, Suspended for a stopped DarwinCluster, Healthy for a cancelled
 * ArtifactBuild and a DarwinJob stopped on request.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { computeDarwinJobStatus, type JobObservation } from "../controllers/darwin-job/status.ts";
import { GROUP, KINDS } from "../crds/src/index.ts";
import { runHealthScript } from "./test/lua.ts";

const CHART = join(import.meta.dirname, "darwin");
const argocdCm = parse(readFileSync(join(CHART, "argocd", "argocd-cm.yaml"), "utf8")) as {
  data: Record<string, string>;
};
type Recorded = { kind: string; metadata: { generation?: number }; status?: Record<string, unknown> };
const recorded = (name: string) =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, "test", "health-fixtures", `${name}.json`), "utf8"),
  ) as Recorded;

function health(object: Recorded) {
  const script = argocdCm.data[`resource.customizations.health.${GROUP}_${object.kind}`];
  if (script === undefined) throw new Error(`argocd-cm has no health check for ${object.kind}`);
  return runHealthScript(script, object);
}

describe("Argo CD health checks", () => {
  it("ships one for every Darwin kind", () => {
    const keys = Object.keys(argocdCm.data).sort();
    expect(keys).toEqual(KINDS.map((k) => `resource.customizations.health.${GROUP}_${k.kind}`).sort());
  });

  it.each([
    ["darwincluster-ready", "RayCluster housing-project is ready."],
    ["featuregroup-ready", undefined],
    ["catalogasset-ready", "In the catalog index with schema version 1."],
    ["serveenvironment", "0 Serves in namespace serve use this environment."],
  ])("%s: Healthy when Ready is True for the current generation", (name, message) => {
    const result = health(recorded(name));
    expect(result.status).toBe("Healthy");
    if (message) expect(result.message).toBe(message);
  });

  it("Progressing while the operator has not acted on the latest generation", () => {
    const object = recorded("darwincluster-ready");
    object.metadata.generation = 2; // the user changed the spec; status still describes generation 1
    expect(health(object)).toEqual({
      status: "Progressing",
      message: "Waiting for the operator to act on generation 2",
    });
  });

  it("Progressing before the operator wrote any status", () => {
    const object = recorded("darwincluster-ready");
    delete object.status;
    expect(health(object).status).toBe("Progressing");
  });

  it("Progressing with the condition's message while Ready is False for a passing reason", () => {
    const object = recorded("darwinjob-dashboard-unreachable");
    expect(health(object)).toEqual({
      status: "Progressing",
      message: expect.stringContaining('The Ray dashboard of DarwinCluster "housing-project" did not answer'),
    });
  });

  it("Progressing for a queued ArtifactBuild, saying its place in the queue", () => {
    expect(health(recorded("artifactbuild-queued"))).toEqual({
      status: "Progressing",
      message: "Waiting to start: position 3 in the build queue (2 builds start first).",
    });
  });

  it("Healthy with the condition's message for an ArtifactBuild cancelled through spec.cancel", () => {
    // recorded from the testbed after Argo CD synced it from git (test-e2e/gitops/argocd.int.test.ts)
    const object = recorded("artifactbuild-cancelled");
    expect(object.status?.phase).toBe("Cancelled");
    expect(health(object)).toEqual({
      status: "Healthy",
      message: "The build was cancelled (spec.cancel); its Job and pod were deleted.",
    });
  });

  it.each([
    ["Ray stopped it", { kind: "ray", info: { status: "STOPPED" }, logs: "" }, "The job was stopped."],
    [
      "stopped before Ray ran it",
      { kind: "blocked", reason: "StopRequested", message: "The job was stopped before it was submitted." },
      "The job was stopped before it was submitted.",
    ],
  ] as const)(
    "Healthy with the condition's message for a DarwinJob stopped on request (%s)",
    (_, observation, message) => {
      // a recorded DarwinJob, with the status the DarwinJob controller's own status function gives it once stopped
      const object = recorded("darwinjob-dashboard-unreachable");
      object.status = computeDarwinJobStatus({}, observation as JobObservation, {
        submissionId: "s",
        dashboardURL: "http://head:8265",
        generation: object.metadata.generation,
        now: new Date(),
      }) as Record<string, unknown>;
      expect(health(object)).toEqual({ status: "Healthy", message });
    },
  );

  it("Degraded for a DarwinJob that failed", () => {
    const object = recorded("darwinjob-dashboard-unreachable");
    object.status = computeDarwinJobStatus(
      {},
      { kind: "ray", info: { status: "FAILED" }, logs: "" },
      {
        submissionId: "s",
        dashboardURL: "http://head:8265",
        generation: object.metadata.generation,
        now: new Date(),
      },
    ) as Record<string, unknown>;
    expect(health(object).status).toBe("Degraded");
  });

  it("Degraded with the condition's message when Ready is False for a failure", () => {
    expect(health(recorded("darwincluster-runtime-not-found"))).toEqual({
      status: "Degraded",
      message:
        'DarwinRuntime "HelmFixtureRuntime" does not exist; set spec.runtime to the displayName or name of one of: Ray2.37.0-Py310-CPU.',
    });
  });

  it("Suspended for a DarwinCluster the operator stopped", () => {
    expect(health(recorded("darwincluster-suspended"))).toEqual({
      status: "Suspended",
      message: expect.stringContaining("The cluster is stopped (spec.suspend is true)"),
    });
  });

  it("Healthy once present for kinds whose status nobody writes", () => {
    for (const name of ["darwinruntime"]) {
      const object = recorded(name);
      expect(object.status).toBeUndefined();
      expect(health(object).status).toBe("Healthy");
    }
  });
});
