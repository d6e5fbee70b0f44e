/**
 * The lifecycle events of feature groups and serves, and what the sample transformers make of them: the
 * events a status change gives, and the entities and relationships behind a serve's and a group's lineage.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { sampleObject } from "../testing/samples.ts";
import type { ChronosEvent } from "./event.ts";
import { featureGroupEvents, type LifecycleEvent, serveEvents } from "./lifecycle.ts";
import { applyTransformer, compileTransformer, isCompiled } from "./transform.ts";

const ready = (status: "True" | "False", reason: string) => [
  { type: "Ready", status, reason, message: reason, lastTransitionTime: "2026-01-01T00:00:00Z" },
];

const group = (status: Record<string, unknown>, resourceVersion = "5"): KubeObject =>
  ({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "FeatureGroup",
    metadata: { namespace: "team-a", name: "user-features", uid: "g1", resourceVersion },
    spec: { version: 2, owner: "ana@example.com" },
    status,
  }) as KubeObject;

const serve = (status: Record<string, unknown>, resourceVersion = "8"): KubeObject =>
  ({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "Serve",
    metadata: { namespace: "team-a", name: "iris-classifier", uid: "s1", resourceVersion },
    spec: {
      environment: "local",
      type: "api",
      model: { uri: "models:/iris@champion" },
      features: [{ featureGroup: "user-features" }, { featureGroup: "item-features", version: 3 }],
    },
    status,
  }) as KubeObject;

const served = (version: number, versions: number[]) => ({
  servedVersion: version,
  servedVersions: versions,
  table: `ks.user_features_v${version}`,
  conditions: ready("True", "Serving"),
});

async function transformed(rule: string, event: LifecycleEvent) {
  const compiled = compileTransformer(sampleObject("chronostransformer", rule));
  if (!isCompiled(compiled)) throw new Error(compiled.error);
  const complete: ChronosEvent = {
    ...event,
    time: "2026-01-01T00:00:00.000Z",
    receivedAt: "2026-01-01T00:00:00.000Z",
    payload: event.payload ?? {},
  };
  const result = await applyTransformer(compiled, complete);
  if (result.outcome !== "applied") throw new Error(JSON.stringify(result));
  return result.output;
}

describe("featureGroupEvents", () => {
  it("gives created and ready on the first status, a version change, failures, and deletion", () => {
    const types = (before: Record<string, unknown> | undefined, after: Record<string, unknown>) =>
      featureGroupEvents.changed(group(after), before).map((e) => e.type);
    expect(types(undefined, served(1, [1]))).toEqual(["feature_group_created", "feature_group_ready"]);
    expect(types(served(1, [1]), served(2, [1, 2]))).toEqual(["feature_group_version_changed"]);
    expect(types(served(2, [1, 2]), { ...served(2, [1, 2]), lastWriteTime: "x" })).toEqual([]);
    expect(
      types(served(2, [1, 2]), { ...served(2, [1, 2]), conditions: ready("False", "CassandraUnavailable") }),
    ).toEqual(["feature_group_failed"]);
    const [event] = featureGroupEvents.changed(group(served(2, [1, 2])), served(1, [1]));
    expect(event).toMatchObject({
      id: "featuregroup-g1-5-feature_group_version_changed",
      namespace: "team-a",
      source: "darwin-feature-store",
      payload: { feature_group: "user-features", version: 2, previous_version: 1, versions: [1, 2] },
    });
    expect(featureGroupEvents.deleted?.(group(served(2, [1, 2])))).toMatchObject({
      type: "feature_group_deleted",
      payload: { version: 2 },
    });
  });

  it("become the group and its versions through the sample transformer", async () => {
    const [event] = featureGroupEvents.changed(group(served(2, [1, 2])), served(1, [1]));
    if (!event) throw new Error("no event");
    const output = await transformed("feature-group-lifecycle", event);
    expect(output.entities.map((e) => `${e.type}/${e.id}`)).toEqual([
      "feature_group/user-features",
      "feature_group_version/user-features:v1",
      "feature_group_version/user-features:v2",
    ]);
    expect(output.entities[0]?.attributes).toMatchObject({
      version: 2,
      lastEvent: "feature_group_version_changed",
    });
    expect(output.relationships.map((r) => `${r.from.id} ${r.type} ${r.to.id}`)).toEqual([
      "user-features has_version user-features:v1",
      "user-features has_version user-features:v2",
    ]);
  });

  it("keep a group with a single version a list of one", async () => {
    const [event] = featureGroupEvents.changed(group(served(1, [1])), undefined);
    if (!event) throw new Error("no event");
    const output = await transformed("feature-group-lifecycle", event);
    expect(output.relationships.map((r) => r.to.id)).toEqual(["user-features:v1"]);
  });
});

describe("serveEvents", () => {
  const resolved = (version: string, phase = "Ready") => ({
    phase,
    url: "http://iris-classifier.local/predict",
    resolvedModel: {
      name: "iris",
      version,
      artifactUri: "mlflow-artifacts:/1/abc/artifacts/model",
      runId: "4b0aee211ca64e89b9d8c773566dbaa4",
      experimentId: "3",
      experimentName: "iris-training",
    },
    conditions: ready("True", "Available"),
  });

  it("gives created, the resolved model version, ready, failed and deleted", () => {
    const types = (before: Record<string, unknown> | undefined, after: Record<string, unknown>) =>
      serveEvents.changed(serve(after), before).map((e) => e.type);
    expect(types(undefined, { phase: "Resolving" })).toEqual(["serve_created"]);
    expect(types({ phase: "Resolving" }, resolved("1", "Deploying"))).toEqual(["serve_model_resolved"]);
    expect(types(resolved("1", "Deploying"), resolved("1"))).toEqual(["serve_ready"]);
    expect(types(resolved("1"), resolved("2"))).toEqual(["serve_model_resolved"]);
    expect(types(resolved("2"), { ...resolved("2"), phase: "Failed" })).toEqual(["serve_failed"]);
    expect(serveEvents.deleted?.(serve(resolved("2")))?.type).toBe("serve_deleted");
  });

  it("become the serve, the model version it serves, its run and experiment, and the feature groups it reads", async () => {
    const [event] = serveEvents.changed(serve(resolved("3")), { phase: "Resolving" });
    if (!event) throw new Error("no event");
    expect(event.payload).toMatchObject({
      serve: "iris-classifier",
      model_name: "iris",
      model_version: "3",
      model_run_id: "4b0aee211ca64e89b9d8c773566dbaa4",
      model_experiment_id: "3",
      model_experiment_name: "iris-training",
      feature_groups: [
        { name: "user-features", version: null },
        { name: "item-features", version: 3 },
      ],
    });
    const output = await transformed("serve-lifecycle", event);
    expect(output.entities.map((e) => `${e.type}/${e.id}`)).toEqual([
      "serve/iris-classifier",
      "model/iris",
      "model_version/iris/3",
      "run/4b0aee211ca64e89b9d8c773566dbaa4",
      "experiment/3",
      "feature_group/user-features",
      "feature_group/item-features",
    ]);
    expect(output.entities.find((e) => e.type === "experiment")?.attributes).toEqual({
      name: "iris-training",
    });
    expect(output.relationships.map((r) => `${r.from.id} ${r.type} ${r.to.id}`)).toEqual([
      "iris has_version iris/3",
      "iris/3 deployed_to iris-classifier",
      "4b0aee211ca64e89b9d8c773566dbaa4 produced iris/3",
      "3 has_run 4b0aee211ca64e89b9d8c773566dbaa4",
      "user-features feeds iris-classifier",
      "item-features feeds iris-classifier",
    ]);
  });

  it("leave the run out when MLflow named none (a model from S3)", async () => {
    const status = resolved("3");
    const { runId: _r, experimentId: _e, experimentName: _n, ...model } = status.resolvedModel;
    const [event] = serveEvents.changed(serve({ ...status, resolvedModel: model }), { phase: "Resolving" });
    if (!event) throw new Error("no event");
    const output = await transformed("serve-lifecycle", event);
    expect(output.entities.map((e) => e.type)).not.toContain("run");
    expect(output.relationships.map((r) => r.type)).not.toContain("produced");
  });

  it("keep a serve whose model is not resolved without a model", async () => {
    const [event] = serveEvents.changed(
      { ...serve({ phase: "Resolving" }), spec: { environment: "local", type: "api", features: [] } },
      undefined,
    );
    if (!event) throw new Error("no event");
    const output = await transformed("serve-lifecycle", event);
    expect(output).toEqual({
      entities: [expect.objectContaining({ type: "serve", id: "iris-classifier" })],
      relationships: [],
    });
  });
});
