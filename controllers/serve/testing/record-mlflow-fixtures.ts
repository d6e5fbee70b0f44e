/**
 * Records the answers of a real MLflow (the testbed's, $DARWIN_MLFLOW_URL) to the requests the Serve
 * controller makes, into fixtures/mlflow.json, for the unit tests of the client and the resolution:
 *
 *   node controllers/serve/testing/record-mlflow-fixtures.ts
 *
 * It trains and registers a fresh iris model (two versions, alias champion on the first, tagged
 * darwin.namespace=team-a) and asks for what exists and what does not. The catalog's MLflow sync
 * (dataplane/catalog/mlflow-models.test.ts) reads the searches, the runs and the experiment from here too.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadTestbedEnv } from "../../../test-e2e/support/testbed-env.ts";
import { mlflowURL, trainIris } from "./mlflow.ts";

Object.assign(process.env, { ...loadTestbedEnv(), ...process.env });
const base = mlflowURL();
const name = `iris-fixture-${Date.now().toString(36)}`;
const v1 = await trainIris(name, "champion", { namespace: "team-a" });
const v2 = await trainIris(name);

interface Recorded {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  status: number;
  response: unknown;
}

async function record(
  method: "GET" | "POST",
  path: string,
  query: Record<string, string>,
  body?: unknown,
): Promise<Recorded> {
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    method,
    path,
    query,
    ...(body !== undefined && { body }),
    status: response.status,
    response: text ? JSON.parse(text) : {},
  };
}

const runPath = new URL(v1.artifact_uri).pathname.replace(/^\/+/, "");
const cases: Record<string, Recorded> = {
  aliasFound: await record("GET", "/api/2.0/mlflow/registered-models/alias", { name, alias: "champion" }),
  aliasMissing: await record("GET", "/api/2.0/mlflow/registered-models/alias", { name, alias: "nobody" }),
  aliasModelMissing: await record("GET", "/api/2.0/mlflow/registered-models/alias", {
    name: `${name}-missing`,
    alias: "champion",
  }),
  versionFound: await record("GET", "/api/2.0/mlflow/model-versions/get", { name, version: "2" }),
  versionMissing: await record("GET", "/api/2.0/mlflow/model-versions/get", { name, version: "99" }),
  latestNone: await record(
    "POST",
    "/api/2.0/mlflow/registered-models/get-latest-versions",
    {},
    { name, stages: ["None"] },
  ),
  latestProduction: await record(
    "POST",
    "/api/2.0/mlflow/registered-models/get-latest-versions",
    {},
    { name, stages: ["Production"] },
  ),
  runFound: await record("GET", "/api/2.0/mlflow/runs/get", { run_id: v1.run_id }),
  runSecond: await record("GET", "/api/2.0/mlflow/runs/get", { run_id: v2.run_id }),
  runMissing: await record("GET", "/api/2.0/mlflow/runs/get", { run_id: "0123456789abcdef0123456789abcdef" }),
  experimentFound: await record("GET", "/api/2.0/mlflow/experiments/get", {
    experiment_id: v1.experiment_id,
  }),
  // The catalog's sync asks for every model and version; the same requests, narrowed to this model.
  registeredModelsSearch: await record("GET", "/api/2.0/mlflow/registered-models/search", {
    filter: `name='${name}'`,
    max_results: "100",
  }),
  modelVersionsSearch: await record("GET", "/api/2.0/mlflow/model-versions/search", {
    filter: `name='${name}'`,
    max_results: "100",
  }),
  artifactsFound: await record("GET", "/api/2.0/mlflow-artifacts/artifacts", { path: runPath }),
  artifactsMissing: await record("GET", "/api/2.0/mlflow-artifacts/artifacts", {
    path: `${runPath}-missing`,
  }),
};
const file = join(import.meta.dirname, "..", "fixtures", "mlflow.json");
writeFileSync(
  file,
  `${JSON.stringify({ recordedFrom: `MLflow ${process.env.DARWIN_MLFLOW_VERSION}`, model: name, runPath, runId: v1.run_id, cases }, null, 2)}\n`,
);
console.log(`wrote ${file}`);
