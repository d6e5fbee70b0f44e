import { describe, expect, it } from "vitest";
import { PREDICT_SERVER_SOURCE } from "../server/sources.ts";
import { irisContext, LOCAL_ENVIRONMENT } from "./fixtures.ts";
import { serveURL } from "./inputs.ts";
import { renderAutoscaler, renderDeployment, renderIngress, renderService } from "./model-server.ts";

const podSpec = (ctx = irisContext()) => {
  const spec = renderDeployment(ctx).spec?.template.spec;
  if (!spec) throw new Error("the Deployment has no pod spec");
  return spec;
};

describe("api Serve children", () => {
  it("renders the seed's iris-classifier (snapshot; the predict server's source elided)", () => {
    const ctx = irisContext();
    const deployment = JSON.parse(
      JSON.stringify(renderDeployment(ctx)).replace(
        JSON.stringify(PREDICT_SERVER_SOURCE).slice(1, -1),
        "<predict_server.py>",
      ),
    );
    expect(deployment).toMatchSnapshot();
    expect(renderService(ctx.serve)).toMatchSnapshot();
    expect(renderAutoscaler(ctx.serve)).toMatchSnapshot();
    expect(renderIngress(ctx.serve, ctx.environment)).toMatchSnapshot();
  });

  it("leaves the Deployment's replicas to the autoscaler", () => {
    expect(renderDeployment(irisContext()).spec).not.toHaveProperty("replicas");
    expect(renderAutoscaler(irisContext().serve).spec).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
  });

  it.each([
    ["spot", { "darwin.dreamhorizon.org/capacity": "spot" }, true],
    ["on-demand", { "darwin.dreamhorizon.org/capacity": "on-demand" }, false],
  ] as const)(
    "places %s pods with the node selector and tolerations",
    (capacity, nodeSelector, tolerates) => {
      const ctx = irisContext();
      const spec = podSpec({ ...ctx, revision: { ...ctx.revision, capacity } });
      expect(spec.nodeSelector).toEqual(nodeSelector);
      expect(spec.tolerations !== undefined).toBe(tolerates);
    },
  );

  it("runs the predict server with the pinned model only for Darwin's server image", () => {
    const own = podSpec().containers[0];
    expect(own?.command).toEqual(["python", "-c", PREDICT_SERVER_SOURCE]);
    expect(own?.env).toContainEqual({ name: "DARWIN_MODEL_URI", value: "models:/iris/3" });
    const user = podSpec(irisContext({ defaultServer: false })).containers[0];
    expect(user?.command).toBeUndefined();
  });

  it("keeps Darwin's variables when the user sets the same names", () => {
    const env = podSpec(
      irisContext({
        spec: {
          env: [
            { name: "DARWIN_MODEL_URI", value: "x" },
            { name: "LOG_LEVEL", value: "debug" },
          ],
        },
      }),
    ).containers[0]?.env;
    expect(env?.filter((e) => e.name === "DARWIN_MODEL_URI")).toEqual([
      { name: "DARWIN_MODEL_URI", value: "models:/iris/3" },
    ]);
    expect(env).toContainEqual({ name: "LOG_LEVEL", value: "debug" });
  });

  it("gives feature inputs the feature server and the groups", () => {
    const ctx = irisContext({ spec: { features: [{ featureGroup: "user-features", version: 1 }] } });
    const withServer = {
      ...ctx,
      environment: {
        ...LOCAL_ENVIRONMENT,
        spec: { ...LOCAL_ENVIRONMENT.spec, featureServerURL: "http://features.darwin:8080" },
      },
    };
    const env = podSpec(withServer).containers[0]?.env;
    expect(env).toContainEqual({ name: "DARWIN_FEATURE_SERVER_URL", value: "http://features.darwin:8080" });
    expect(env).toContainEqual({
      name: "DARWIN_FEATURE_GROUPS",
      value: '[{"featureGroup":"user-features","version":1}]',
    });
  });

  it("leaves the replica bounds to the autoscaler", () => {
    expect(
      renderAutoscaler(irisContext({ spec: { replicas: { min: 2, max: 3 } } }).serve).spec,
    ).toMatchObject({ minReplicas: 2, maxReplicas: 3 });
  });

  it.each([
    [{ ingressClassName: "nginx" }, "http://iris-classifier.local/iris-classifier/predict"],
    [{ ingressClassName: undefined }, "http://iris-classifier.serve.svc/iris-classifier/predict"],
    [
      { ingressClassName: "nginx", domainSuffix: "ml.example.com" },
      "http://iris-classifier.ml.example.com/iris-classifier/predict",
    ],
  ])("URL with %j", (spec, url) => {
    const ctx = irisContext();
    expect(serveURL(ctx.serve, { ...LOCAL_ENVIRONMENT, spec: { ...LOCAL_ENVIRONMENT.spec, ...spec } })).toBe(
      url,
    );
  });
});
