// @testbed data
/**
 * The model server as the Deployment runs it: the rendered container command and environment, started as
 * local processes (the MLflow venv's python and mlflow on PATH, the image's role) against the testbed's
 * MLflow, answer the seed's bodies and MLflow's own through /predict. Only the two ports are changed, to
 * free ones, so parallel runs do not collide.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test-e2e/support/free-port.ts";
import { waitFor } from "../../test-e2e/support/wait.ts";
import { irisContext } from "./render/fixtures.ts";
import { renderDeployment } from "./render/model-server.ts";
import { mlflowBin, mlflowURL, type RegisteredModel, trainIris } from "./testing/mlflow.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
let model: RegisteredModel;
let server: ChildProcess | undefined;
let base = "";
let logs = "";

const predict = (body: unknown, path = "/predict") =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  model = await trainIris(`iris-predict-${RUN}`, "champion");
  const ctx = irisContext();
  const rendered = renderDeployment({
    ...ctx,
    mlflowTrackingURI: mlflowURL(),
    revision: { ...ctx.revision, modelURI: `models:/${model.name}/${model.version}` },
  });
  type Container = { command: string[]; env: Array<{ name: string; value: string }> };
  const container = (rendered.spec as { template: { spec: { containers: Container[] } } }).template.spec
    .containers[0];
  if (!container) throw new Error("no container rendered");
  const [port, mlflowPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  env.DARWIN_PORT = String(port);
  env.DARWIN_MLFLOW_PORT = String(mlflowPort);
  const [command, ...args] = container.command;
  server = spawn(command as string, args, {
    env: { PATH: `${mlflowBin()}:${process.env.PATH}`, HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout?.on("data", (d) => (logs += d));
  server.stderr?.on("data", (d) => (logs += d));
  base = `http://127.0.0.1:${port}`;
  await waitFor(
    "the model server to answer /health",
    async () => {
      if (server?.exitCode !== null) throw new Error(`the model server exited: ${logs.slice(-2000)}`);
      return (await fetch(`${base}/health`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs: 150_000, intervalMs: 500 },
  );
}, 300_000);

afterAll(() => {
  server?.kill("SIGTERM");
});

describe("the rendered model server", () => {
  it("predicts the seed's iris body through /predict", async () => {
    const response = await predict({ features: [[5.1, 3.5, 1.4, 0.2]] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ predictions: [0] });
  });

  it.each([
    ["the seed's input body", { input: [[6.7, 3.0, 5.2, 2.3]] }, "/predict", [2]],
    [
      "MLflow's inputs",
      {
        inputs: [
          [5.1, 3.5, 1.4, 0.2],
          [6.7, 3.0, 5.2, 2.3],
        ],
      },
      "/predict",
      [0, 2],
    ],
    ["MLflow's dataframe_split", { dataframe_split: { data: [[5.1, 3.5, 1.4, 0.2]] } }, "/predict", [0]],
    [
      "the Ingress path /<serve>/predict",
      { features: [[5.1, 3.5, 1.4, 0.2]] },
      "/iris-classifier/predict",
      [0],
    ],
    ["MLflow's /invocations", { inputs: [[5.1, 3.5, 1.4, 0.2]] }, "/invocations", [0]],
  ])("answers %s", async (_, body, path, predictions) => {
    const response = await predict(body, path);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ predictions });
  });

  it.each([
    [{ rows: [[1, 2, 3, 4]] }, "exactly one of: features, input, inputs"],
    [{ features: [1, 2, 3, 4] }, '"features" must be a list of rows'],
    [[1, 2], "must be a JSON object"],
  ])("refuses %j with 400 and says what it accepts", async (body, message) => {
    const response = await predict(body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(message);
  });

  it("answers a body the model cannot take with MLflow's 4xx, not a 5xx", async () => {
    const response = await predict({ features: [[1, 2]] });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});
