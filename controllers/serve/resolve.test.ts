/** Model resolution against MLflow's recorded answers (fixtures/mlflow.json, from the testbed's MLflow 3.x). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowClient } from "./mlflow-client.ts";
import { resolveModel } from "./resolve.ts";
import { type MlflowFixtures, mlflowFixtures, startFakeMlflow } from "./testing/fake-mlflow.ts";

const fixtures: MlflowFixtures = mlflowFixtures();
let fake: Awaited<ReturnType<typeof startFakeMlflow>>;
let client: MlflowClient;

beforeAll(async () => {
  fake = await startFakeMlflow(fixtures);
  client = new MlflowClient(fake.url);
});
afterAll(() => fake?.close());

describe("resolveModel", () => {
  it("pins an alias to the READY version it names, with run and source", async () => {
    const result = await resolveModel(`models:/${fixtures.model}@champion`, client);
    expect(result).toEqual({
      ok: true,
      model: {
        servedURI: `models:/${fixtures.model}/1`,
        name: fixtures.model,
        version: "1",
        runId: fixtures.runId,
        experimentId: expect.stringMatching(/^\d+$/),
        experimentName: `${fixtures.model}-training`,
        artifactUri: expect.stringMatching(/^(mlflow-artifacts:|models:)\//),
      },
    });
  });

  it("takes the run's experiment from the last resolution when the run is the same", async () => {
    const known = { runId: fixtures.runId, experimentId: "7", experimentName: "as resolved before" };
    const result = await resolveModel(`models:/${fixtures.model}@champion`, client, known);
    expect(result).toMatchObject({
      ok: true,
      model: { experimentId: "7", experimentName: "as resolved before" },
    });
    const other = await resolveModel(`models:/${fixtures.model}@champion`, client, {
      ...known,
      runId: "other",
    });
    expect(other).toMatchObject({ ok: true, model: { experimentName: `${fixtures.model}-training` } });
  });

  it.each([
    ["a version", () => `models:/${fixtures.model}/2`, `models:/${fixtures.model}/2`],
    [
      "the newest version without a stage",
      () => `models:/${fixtures.model}/None`,
      `models:/${fixtures.model}/2`,
    ],
    ["a run's model", () => `runs:/${fixtures.runId}/model`, `runs:/${fixtures.runId}/model`],
    [
      "an artifact path",
      () => `mlflow-artifacts:/${fixtures.runPath}`,
      `mlflow-artifacts:/${fixtures.runPath}`,
    ],
  ])("resolves %s", async (_, uri, served) => {
    const result = await resolveModel(uri(), client);
    expect(result.ok && result.model.servedURI).toBe(served);
  });

  it.each([
    ["an alias nobody set", () => `models:/${fixtures.model}@nobody`],
    ["a model that does not exist", () => `models:/${fixtures.model}-missing@champion`],
    ["a version that does not exist", () => `models:/${fixtures.model}/99`],
    ["an empty stage", () => `models:/${fixtures.model}/Production`],
    ["a run that does not exist", () => "runs:/0123456789abcdef0123456789abcdef/model"],
    ["an artifact path without a model", () => `mlflow-artifacts:/${fixtures.runPath}-missing`],
  ])("reports %s as ModelNotFound", async (_, uri) => {
    const result = await resolveModel(uri(), client);
    expect(result).toMatchObject({ ok: false, reason: "ModelNotFound" });
  });

  it("reports a version that is not READY", async () => {
    const pending = structuredClone(fixtures);
    const found = pending.cases.versionFound?.response as { model_version: { status: string } };
    found.model_version.status = "PENDING_REGISTRATION";
    const other = await startFakeMlflow(pending);
    try {
      const result = await resolveModel(`models:/${fixtures.model}/2`, new MlflowClient(other.url));
      expect(result).toMatchObject({ ok: false, reason: "ModelVersionNotReady" });
      expect(!result.ok && result.message).toContain("PENDING_REGISTRATION, not READY");
    } finally {
      await other.close();
    }
  });

  it("reports an MLflow that does not answer as MLflowUnavailable", async () => {
    const result = await resolveModel(
      "models:/iris@champion",
      new MlflowClient("http://127.0.0.1:9", { timeoutMs: 2000 }),
    );
    expect(result).toMatchObject({ ok: false, reason: "MLflowUnavailable" });
  });

  it("needs no MLflow for s3:// and says so for registry URIs without one", async () => {
    expect(await resolveModel("s3://models/iris", undefined)).toMatchObject({
      ok: true,
      model: { servedURI: "s3://models/iris" },
    });
    expect(await resolveModel("models:/iris@champion", undefined)).toMatchObject({
      ok: false,
      reason: "MLflowUnavailable",
    });
  });
});
