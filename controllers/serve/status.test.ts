import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import type { Revision } from "./revisions.ts";
import { computeServeStatus, observeDeployment, observeRayService, type ServeObservation } from "./status.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const revision = (number: number, available: boolean): Revision => ({
  number,
  modelURI: `models:/iris/${number}`,
  modelVersion: String(number),
  image: "mlflow:1",
  cores: 2,
  memory: "4Gi",
  capacity: "spot",
  createdAt: NOW.toISOString(),
  ...(available && { availableAt: NOW.toISOString() }),
});
const resolved = { ok: true as const, model: { servedURI: "models:/iris/2", name: "iris", version: "2" } };
const base: ServeObservation = {
  generation: 4,
  now: NOW,
  revisions: {},
  capacity: "spot",
  url: "http://x/iris/predict",
};

function deployment(status: Record<string, unknown>, generation = 7, replicas = 2): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "iris", generation },
    spec: { replicas },
    status: { observedGeneration: generation, ...status },
  };
}

describe("observeDeployment", () => {
  it.each([
    ["not yet seen by the controller", deployment({ observedGeneration: 6 }), "progressing"],
    [
      "all replicas updated and available",
      deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      "available",
    ],
    [
      "old pods still running next to the new",
      deployment({ replicas: 3, updatedReplicas: 2, availableReplicas: 3 }),
      "progressing",
    ],
    [
      "past its progress deadline",
      deployment({
        replicas: 3,
        updatedReplicas: 1,
        availableReplicas: 2,
        conditions: [
          {
            type: "Progressing",
            status: "False",
            reason: "ProgressDeadlineExceeded",
            message: 'ReplicaSet "iris-7f" has timed out progressing.',
          },
        ],
      }),
      "failed",
    ],
  ])("%s", (_, object, state) => {
    expect(observeDeployment(object, 2).state).toBe(state);
  });
});

describe("observeRayService", () => {
  it.each([
    [{ conditions: [{ type: "Ready", status: "True" }] }, "available"],
    [{ serviceStatus: "Running" }, "available"],
    [{ conditions: [{ type: "Ready", status: "False", message: "waiting" }] }, "progressing"],
    [{}, "progressing"],
  ])("%j is %s", (status, state) => {
    expect(
      observeRayService(
        { apiVersion: "ray.io/v1", kind: "RayService", metadata: { name: "x" }, status },
        1,
        1,
      ).state,
    ).toBe(state);
  });
});

const ready = (s: ReturnType<typeof computeServeStatus>) => s.conditions?.find((c) => c.type === "Ready");
const modelResolved = (s: ReturnType<typeof computeServeStatus>) =>
  s.conditions?.find((c) => c.type === "ModelResolved");

describe("computeServeStatus", () => {
  it("a Serve without a model is Undeployed and waits for one", () => {
    const status = computeServeStatus(base);
    expect(status.phase).toBe("Undeployed");
    expect(ready(status)).toMatchObject({ status: "False", reason: "WaitingForModel" });
    expect(status.url).toBeUndefined();
  });

  it("a missing environment fails the Serve", () => {
    const status = computeServeStatus({
      ...base,
      blocker: { reason: "EnvironmentNotFound", message: "no env" },
    });
    expect(status).toMatchObject({ phase: "Failed" });
    expect(ready(status)).toMatchObject({ reason: "EnvironmentNotFound" });
  });

  it("a missing model with nothing serving fails, ModelResolved says why", () => {
    const resolution = {
      ok: false as const,
      reason: "ModelNotFound",
      message: "models:/nope@x does not exist",
    };
    const status = computeServeStatus({ ...base, resolution });
    expect(status.phase).toBe("Failed");
    expect(modelResolved(status)).toMatchObject({ status: "False", reason: "ModelNotFound" });
  });

  it("a missing model leaves a serving revision Ready and says it is left alone", () => {
    const resolution = {
      ok: false as const,
      reason: "ModelNotFound",
      message: "models:/nope@x does not exist.",
    };
    const rollout = {
      state: "available" as const,
      ready: 1,
      desired: 1,
      message: "Revision 1 is available.",
    };
    const status = computeServeStatus({
      ...base,
      resolution,
      rollout,
      revisions: { current: revision(1, true) },
    });
    expect(status).toMatchObject({ phase: "Ready", revision: 1, currentRevision: { number: 1 } });
    expect(modelResolved(status)?.message).toBe(
      "models:/nope@x does not exist. Revision 1 (models:/iris/1) is left as it is.",
    );
  });

  it("a rollout past its deadline names the revision still serving and the way back", () => {
    const rollout = {
      state: "failed" as const,
      ready: 1,
      desired: 1,
      message: "Revision 2 did not become available within its deadline",
    };
    const status = computeServeStatus({
      ...base,
      resolution: resolved,
      rollout,
      revisions: { current: revision(2, false), previous: revision(1, true) },
    });
    expect(status.phase).toBe("Failed");
    expect(ready(status)).toMatchObject({ reason: "RolloutFailed" });
    expect(ready(status)?.message).toContain(
      "Revision 1 (models:/iris/1) keeps serving; hermes rollback returns to it.",
    );
    expect(status.previousRevision?.number).toBe(1);
  });

  it("an available rollout is Ready with both revisions, capacity and URL", () => {
    const rollout = {
      state: "available" as const,
      ready: 2,
      desired: 2,
      message: "Revision 2 is available (2 of 2 replicas).",
    };
    const status = computeServeStatus({
      ...base,
      resolution: resolved,
      resolvedModel: { name: "iris", version: "2" },
      rollout,
      revisions: { current: revision(2, true), previous: revision(1, true) },
    });
    expect(status).toMatchObject({
      phase: "Ready",
      capacity: "spot",
      url: "http://x/iris/predict",
      resolvedModel: { name: "iris", version: "2" },
      replicas: { ready: 2, desired: 2 },
      revision: 2,
      observedGeneration: 4,
    });
    expect(modelResolved(status)).toMatchObject({ status: "True", message: "Resolved to models:/iris/2." });
  });

  it("a missing feature group is a warning beside a serving revision, which stays Ready", () => {
    const features = {
      type: "FeaturesReady",
      status: "False" as const,
      reason: "FeatureGroupNotFound",
      message: "FeatureGroup user-features does not exist in this namespace.",
    };
    const serving = {
      ...base,
      resolution: resolved,
      rollout: { state: "available" as const, ready: 1, desired: 1, message: "Revision 2 is available." },
      revisions: { current: revision(2, true) },
    };
    const status = computeServeStatus({ ...serving, features });
    expect(status.phase).toBe("Ready");
    expect(ready(status)?.status).toBe("True");
    expect(status.conditions?.find((c) => c.type === "FeaturesReady")).toMatchObject(features);
    // Features dropped from the spec: the condition goes with them.
    const without = computeServeStatus({ ...serving, previousStatus: status });
    expect(without.conditions?.map((c) => c.type)).not.toContain("FeaturesReady");
  });

  it("is the same for the same inputs (no status write for an unchanged Serve)", () => {
    const first = computeServeStatus({ ...base, resolution: resolved });
    expect(computeServeStatus({ ...base, resolution: resolved, previousStatus: first })).toEqual(first);
  });
});
