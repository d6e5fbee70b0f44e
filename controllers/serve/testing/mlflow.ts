/**
 * The testbed's MLflow from tests: where it answers, its Python environment (the venv hack/ installed it
 * into, with scikit-learn), training and registering a small iris model there, and the REST calls tests
 * make as any MLflow client would (aliases, renaming and deleting registered models).
 */
import { execFile } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { requireEnv } from "../../../test-e2e/support/testbed-env.ts";

const run = promisify(execFile);

export const mlflowURL = (): string => requireEnv("DARWIN_MLFLOW_URL");

/** bin/ of the MLflow venv (python, mlflow). */
export function mlflowBin(): string {
  const cache = process.env.DARWIN_CACHE ?? join(homedir(), ".cache", "darwin-testbed");
  return join(cache, `mlflow-${requireEnv("DARWIN_MLFLOW_VERSION")}`, "venv", "bin");
}

export interface RegisteredModel {
  name: string;
  version: string;
  run_id: string;
  experiment_id: string;
  artifact_uri: string;
  model_uri: string;
}

/**
 * Trains iris (the run logs the iris data set as its input), logs and registers a new version of `name`;
 * moves `alias` to it when given, and tags the model `darwin.namespace=<namespace>` when given.
 */
export async function trainIris(
  name: string,
  alias?: string,
  options: { namespace?: string } = {},
): Promise<RegisteredModel> {
  const args = [
    join(import.meta.dirname, "..", "..", "..", "hack", "demo", "train_iris.py"),
    mlflowURL(),
    name,
    ...(alias ? [alias] : []),
    ...(options.namespace ? ["--namespace", options.namespace] : []),
  ];
  const { stdout } = await run(join(mlflowBin(), "python"), args, {
    timeout: 180_000,
    env: {
      ...process.env,
      GIT_PYTHON_REFRESH: "quiet",
      MLFLOW_ENABLE_ASYNC_LOGGING: "false",
      // MLflow's telemetry thread pops an environment variable while a request copies os.environ: the
      // request then fails with KeyError '_MLFLOW_TELEMETRY_SESSION_ID' now and then. No telemetry, no race.
      MLFLOW_DISABLE_TELEMETRY: "true",
    },
    maxBuffer: 16 * 2 ** 20,
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as RegisteredModel;
}

async function mlflowCall(method: "POST" | "PATCH" | "DELETE", path: string, body: object): Promise<void> {
  const response = await fetch(`${mlflowURL()}/api/2.0/mlflow/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(
      `MLflow ${method} ${path} ${JSON.stringify(body)}: ${response.status} ${await response.text()}`,
    );
}

/** Points an alias of a registered model at a version (MLflow's REST API, as any client would). */
export const setAlias = (name: string, alias: string, version: string) =>
  mlflowCall("POST", "registered-models/alias", { name, alias, version });

export const renameModel = (name: string, newName: string) =>
  mlflowCall("POST", "registered-models/rename", { name, new_name: newName });

export const deleteModel = (name: string) => mlflowCall("DELETE", "registered-models/delete", { name });

export const setModelTag = (name: string, key: string, value: string) =>
  mlflowCall("POST", "registered-models/set-tag", { name, key, value });
