import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { irisContext } from "./fixtures.ts";
import { RAY_SERVE_IMPORT_PATH, renderAppConfigMap, renderRayService } from "./ray-service.ts";

describe("ray-serve Serve", () => {
  const ctx = irisContext({ spec: { type: "ray-serve", replicas: { min: 1, max: 3 } } });
  const rayService = renderRayService(
    { ...ctx, revision: { ...ctx.revision, image: "rayproject/ray:2.37.0-py310" } },
    { rayVersion: "2.37.0" },
  );

  it("renders a RayService (snapshot)", () => {
    expect(rayService).toMatchSnapshot();
  });

  it("runs Darwin's application on the pinned model, autoscaled between the replica bounds", () => {
    const config = parse((rayService.spec as { serveConfigV2: string }).serveConfigV2);
    const app = config.applications[0];
    expect(app).toMatchObject({
      name: "iris-classifier",
      route_prefix: "/iris-classifier",
      import_path: RAY_SERVE_IMPORT_PATH,
    });
    expect(app.runtime_env.env_vars.DARWIN_MODEL_URI).toBe("models:/iris/3");
    expect(app.deployments[0].autoscaling_config).toEqual({ min_replicas: 1, max_replicas: 3 });
  });

  it("mounts the application module from its ConfigMap", () => {
    const configMap = renderAppConfigMap(ctx.serve);
    expect(Object.keys(configMap.data as object)).toEqual(["darwin_serve.py"]);
    expect(JSON.stringify(rayService)).toContain(configMap.metadata.name);
  });
});
