/**
 * MLflow registered models as catalog assets, from the answers of the testbed's real MLflow
 * (controllers/serve/fixtures/mlflow.json, recorded by controllers/serve/testing/record-mlflow-fixtures.ts):
 * the client's zod schemas read the wire, and the asset and lineage come out of what it read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MlflowClient,
  type ModelVersion,
  type RegisteredModel,
} from "../../controllers/serve/mlflow-client.ts";
import {
  type MlflowFixtures,
  mlflowFixtures,
  startFakeMlflow,
} from "../../controllers/serve/testing/fake-mlflow.ts";
import {
  inputDataset,
  mlflowModelAsset,
  modelNamespace,
  type RunInfo,
  runUUID,
  versionRunEvent,
} from "./mlflow-models.ts";
import { validateRunEvent } from "./openlineage.ts";

const fixtures: MlflowFixtures = mlflowFixtures();
let fake: Awaited<ReturnType<typeof startFakeMlflow>>;
let model: RegisteredModel;
let versions: ModelVersion[];
const runs = new Map<string, RunInfo>();

beforeAll(async () => {
  fake = await startFakeMlflow(fixtures);
  const client = new MlflowClient(fake.url);
  const filter = `name='${fixtures.model}'`;
  const models = await client.searchRegisteredModels(filter);
  expect(models).toHaveLength(1);
  model = models[0] as RegisteredModel;
  versions = await client.searchModelVersions(filter);
  for (const version of versions) {
    const run = await client.getRun(version.run_id ?? "");
    const experiment = await client.getExperiment(run.info.experiment_id);
    runs.set(run.info.run_id, { run, experimentName: experiment.name });
  }
});
afterAll(() => fake?.close());

describe("an MLflow registered model in the catalog", () => {
  it("reads MLflow's searches: the model with its tags and alias, both versions with their runs", () => {
    expect(model.tags).toContainEqual({ key: "darwin.namespace", value: "team-a" });
    expect(model.aliases).toEqual([{ alias: "champion", version: "1" }]);
    expect(versions.map((v) => v.version).sort()).toEqual(["1", "2"]);
    expect(versions.every((v) => v.run_id && v.status === "READY")).toBe(true);
    const run = runs.get(fixtures.runId)?.run;
    expect(run?.inputs?.dataset_inputs?.[0]?.dataset).toMatchObject({ name: "iris", source_type: "http" });
  });

  it("belongs to the namespace its darwin.namespace tag names, else to the default, else nowhere", () => {
    expect(modelNamespace(model, undefined)).toEqual({ namespace: "team-a" });
    const untagged = { ...model, tags: [] };
    expect(modelNamespace(untagged, "ml-models")).toEqual({ namespace: "ml-models" });
    expect(modelNamespace(untagged, undefined)).toMatchObject({
      skipped: expect.stringContaining("no darwin.namespace tag"),
    });
    const bad = { ...model, tags: [{ key: "darwin.namespace", value: "Team A" }] };
    expect(modelNamespace(bad, "ml-models")).toMatchObject({
      skipped: 'its darwin.namespace tag "Team A" is not a namespace name',
    });
  });

  it("becomes a model asset with its versions newest first, aliases, runs and experiment", () => {
    const asset = mlflowModelAsset(model, "team-a", versions, runs);
    expect(asset.key).toEqual({
      namespace: "team-a",
      name: `mlflow:${fixtures.model}`,
      uid: `mlflow:${model.creation_timestamp}`,
    });
    expect(asset.spec).toMatchObject({
      type: "model",
      location: `models:/${fixtures.model}`,
      owner: "platform@darwin.local",
      format: "mlflow",
      schema: [],
    });
    expect(asset.spec.description).toBe(
      `MLflow registered model ${fixtures.model} (latest version 2; aliases champion -> version 1).`,
    );
    expect(asset.spec.tags).toEqual(["mlflow", "alias=champion"]);
    expect(asset.versions.map((v) => [v.version, v.aliases])).toEqual([
      ["2", []],
      ["1", ["champion"]],
    ]);
    expect(asset.versions[1]).toMatchObject({
      status: "READY",
      runId: fixtures.runId,
      experimentName: `${fixtures.model}-training`,
      lineageNode: `dataset:mlflow:models/${fixtures.model}/1`,
    });
  });

  it("gives each version's lineage as a valid RunEvent: the iris data set -> the run -> the version", () => {
    const v1 = versions.find((v) => v.version === "1") as ModelVersion;
    const info = runs.get(fixtures.runId) as RunInfo;
    const event = versionRunEvent(fixtures.model, v1, info);
    expect(validateRunEvent(event)).toHaveProperty("event");
    expect(event).toMatchObject({
      eventType: "COMPLETE",
      run: { runId: runUUID(fixtures.runId) },
      job: {
        namespace: "mlflow",
        name: `runs/${fixtures.runId}`,
        facets: { mlflow_run: { experimentName: `${fixtures.model}-training` } },
      },
      inputs: [{ namespace: "https://archive.ics.uci.edu", name: "dataset/53/iris" }],
      outputs: [{ namespace: "mlflow", name: `models/${fixtures.model}/1` }],
    });
  });

  it("names a data set without an address by its name and digest", () => {
    expect(
      inputDataset({ dataset: { name: "frame", digest: "abc123", source_type: "code", source: "{}" } }),
    ).toMatchObject({ namespace: "mlflow", name: "datasets/frame@abc123" });
  });

  it("turns MLflow's 32-hex run ids into OpenLineage's UUIDs, and refuses anything else", () => {
    expect(runUUID("4B0AEE211CA64E89B9D8C773566DBAA4")).toBe("4b0aee21-1ca6-4e89-b9d8-c773566dbaa4");
    expect(runUUID("not-a-run")).toBeUndefined();
  });
});
