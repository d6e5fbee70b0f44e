// @testbed data
/**
 * The Ray Serve application of a ray-serve Serve, run inside a real Ray: the serveConfigV2 the controller
 * renders into the RayService goes to the Ray dashboard's Serve REST API (`PUT /api/serve/applications/`,
 * what `serve deploy` does), for an iris model trained and registered in the testbed's MLflow, and the
 * seed's body comes back predicted through Ray Serve's HTTP proxy.
 *
 * Three things differ from a RayService pod, all about where things are, not what runs: the application
 * module (the ConfigMap KubeRay mounts on /opt/darwin/serve) is written to a folder named by PYTHONPATH, as
 * the pod's PYTHONPATH names the mount; the proxy listens on a free local port instead of 8000; and the
 * replica asks for one core, all the data tier's Ray head has.
 *
 * The Ray of DARWIN_RAY_DASHBOARD has Ray Serve and the testbed's MLflow (hack/components/ray.sh), so the
 * runtime_env's pinned mlflow is already satisfied. A config PUT replaces every Serve application of that
 * Ray: the test owns its Serve instance and shuts it down at the end.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { freePort } from "../../test-e2e/support/free-port.ts";
import { requireEnv } from "../../test-e2e/support/testbed-env.ts";
import { waitFor } from "../../test-e2e/support/wait.ts";
import { directHttp } from "../shared/cluster-http.ts";
import { irisContext } from "./render/fixtures.ts";
import { RAY_SERVE_PIP, renderRayService } from "./render/ray-service.ts";
import { RAY_SERVE_APP_SOURCE } from "./server/sources.ts";
import { mlflowURL, type RegisteredModel, trainIris } from "./testing/mlflow.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const dashboard = () => requireEnv("DARWIN_RAY_DASHBOARD").replace(/\/$/, "");

const App = z.looseObject({
  name: z.string(),
  route_prefix: z.string(),
  import_path: z.string(),
  runtime_env: z.looseObject({ env_vars: z.record(z.string(), z.string()), pip: z.array(z.string()) }),
});
const ServeConfig = z.looseObject({ applications: z.array(App).length(1) });
const ServeDetails = z.looseObject({
  applications: z.record(z.string(), z.looseObject({ status: z.string(), message: z.string().optional() })),
});

let model: RegisteredModel;
let proxy = "";
let app: z.infer<typeof App>;

/** The dashboard's Serve API (over node:http: the dashboard refuses a PUT from fetch as browser traffic). */
async function serveApi(
  method: "GET" | "PUT" | "DELETE",
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const answer = await directHttp(method, `${dashboard()}/api/serve/applications/`, {
    ...(body !== undefined && { body }),
    timeoutMs: 60_000,
  });
  return { status: answer.status, text: answer.body };
}

beforeAll(async () => {
  const probe = await serveApi("GET");
  if (probe.status === 501) {
    throw new Error(
      `the Ray at ${dashboard()} has no Ray Serve (${probe.text}): its venv needs ray[serve] (hack/components/ray.sh)`,
    );
  }
  model = await trainIris(`iris-ray-${RUN}`, "champion");
  const ctx = irisContext({ spec: { type: "ray-serve" } });
  const rayService = renderRayService(
    {
      ...ctx,
      mlflowTrackingURI: mlflowURL(),
      // one core: the data tier's Ray head has one CPU, and a replica asking for more is never scheduled
      revision: { ...ctx.revision, cores: 1, modelURI: `models:/${model.name}/${model.version}` },
    },
    { rayVersion: "2.60.0" },
  );
  const config = ServeConfig.parse(parseYaml((rayService.spec as { serveConfigV2: string }).serveConfigV2));
  app = config.applications[0] as z.infer<typeof App>;
  const moduleDir = mkdtempSync(join(tmpdir(), "darwin-serve-app-"));
  writeFileSync(join(moduleDir, "darwin_serve.py"), RAY_SERVE_APP_SOURCE);
  const port = await freePort();
  proxy = `http://127.0.0.1:${port}`;
  const deployed = {
    ...config,
    http_options: { host: "127.0.0.1", port },
    applications: [
      {
        ...app,
        runtime_env: { ...app.runtime_env, env_vars: { ...app.runtime_env.env_vars, PYTHONPATH: moduleDir } },
      },
    ],
  };
  const put = await serveApi("PUT", deployed);
  if (put.status >= 300) throw new Error(`PUT /api/serve/applications/ answered ${put.status}: ${put.text}`);
  // The first deploy makes the runtime_env's virtualenv; its pinned mlflow is already in the Ray's own venv.
  await waitFor(
    `the Serve application ${app.name} to run`,
    async () => {
      const details = ServeDetails.parse(JSON.parse((await serveApi("GET")).text));
      const status = details.applications[app.name];
      if (status?.status === "DEPLOY_FAILED" || status?.status === "UNHEALTHY")
        throw new Error(`${app.name} is ${status.status}: ${status.message}`);
      return status?.status === "RUNNING";
    },
    { timeoutMs: 900_000, intervalMs: 2000 },
  ).catch(async (err: unknown) => {
    throw new Error(`${String(err)}; last details: ${(await serveApi("GET")).text}`);
  });
}, 1_000_000);

afterAll(async () => {
  if (app) await serveApi("DELETE").catch(() => undefined);
});

describe("the ray-serve application in a real Ray", () => {
  it("is the rendered one: the application module, its route, the pinned model and mlflow for its runtime", () => {
    expect(app).toMatchObject({
      name: "iris-classifier",
      route_prefix: "/iris-classifier",
      import_path: "darwin_serve:app",
      runtime_env: { pip: RAY_SERVE_PIP },
    });
    expect(app.runtime_env.env_vars.DARWIN_MODEL_URI).toBe(`models:/${model.name}/${model.version}`);
  });

  it("predicts the seed's body at /<serve>/predict, and answers a body it cannot read with 400", async () => {
    const predict = (body: unknown) =>
      fetch(`${proxy}/iris-classifier/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const answer = await predict({ features: [[5.1, 3.5, 1.4, 0.2]] });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ predictions: [0] });
    const records = await predict({
      dataframe_split: { columns: ["a", "b", "c", "d"], data: [[6.7, 3.0, 5.2, 2.3]] },
    });
    expect(await records.json()).toEqual({ predictions: [2] });
    const bad = await predict({ rows: [[1, 2, 3, 4]] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error:
        "the body must have one of: features, input, inputs, instances, dataframe_split, dataframe_records",
    });
  });
});
