/**
 * The testbed's MLflow from tests: where it answers, its Python environment (the venv hack/ installed it
 * into, with scikit-learn), and training and registering a small iris model there.
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
  artifact_uri: string;
  model_uri: string;
}

/** Trains iris, logs and registers a new version of `name`; moves `alias` to it when given. */
export async function trainIris(name: string, alias?: string): Promise<RegisteredModel> {
  const args = [
    join(import.meta.dirname, "..", "..", "..", "hack", "demo", "train_iris.py"),
    mlflowURL(),
    name,
    ...(alias ? [alias] : []),
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

/** Points an alias of a registered model at a version (MLflow's REST API, as any client would). */
export async function setAlias(name: string, alias: string, version: string): Promise<void> {
  const response = await fetch(`${mlflowURL()}/api/2.0/mlflow/registered-models/alias`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, alias, version }),
  });
  if (!response.ok)
    throw new Error(`setting alias ${alias} of ${name} failed: ${response.status} ${await response.text()}`);
}
