import { describe, expect, it } from "vitest";
import { formatFieldErrors } from "./field-error.ts";
import { context, resource } from "./fixtures.ts";
import { validateServe } from "./serve.ts";

const serve = (spec: Record<string, unknown> = {}, namespace = "serve") =>
  resource(
    "Serve",
    {
      environment: "local",
      type: "api",
      model: { uri: "models:/iris@champion" },
      resources: { cores: 2, memory: "4Gi" },
      ...spec,
    },
    { name: "iris-classifier", namespace },
  );

describe("validateServe", () => {
  it("accepts a valid serve, with or without a model, of either type", () => {
    expect(validateServe(serve(), undefined, context)).toEqual([]);
    expect(validateServe(serve({ model: undefined }), undefined, context)).toEqual([]);
    // The seed's create-serve --type ray-serve comes before deploy-model: the Serve waits for its model.
    expect(validateServe(serve({ type: "ray-serve", model: undefined }), undefined, context)).toEqual([]);
    expect(validateServe(serve({ model: { uri: "models:/iris/3" } }), undefined, context)).toEqual([]);
    expect(validateServe(serve({ model: { uri: "s3://models/iris/" } }), undefined, context)).toEqual([]);
  });

  it("checks the image as an image reference and takes memory as fractional GiB", () => {
    expect(validateServe(serve({ image: "registry.example.com/ml/iris:1.0" }), undefined, context)).toEqual(
      [],
    );
    expect(
      validateServe(serve({ image: "registry.example.com/ml/iris server:1.0" }), undefined, context),
    ).toEqual([
      {
        field: "spec.image",
        message:
          '"registry.example.com/ml/iris server:1.0" must be an image reference [registry[:port]/]path[:tag][@sha256:digest] in lower case without spaces, e.g. registry.example.com/ml/iris:1.0',
      },
    ]);
    expect(validateServe(serve({ resources: { cores: 1, memory: 4.5 } }), undefined, context)).toEqual([]);
  });

  it("refuses an environment that does not exist, listing the ones that do", () => {
    expect(validateServe(serve({ environment: "prod" }), undefined, context)).toEqual([
      {
        field: "spec.environment",
        message: 'ServeEnvironment "prod" does not exist',
        fix: "use one of: local",
      },
    ]);
  });

  it("refuses a namespace other than the environment's", () => {
    expect(validateServe(serve({}, "team-a"), undefined, context)).toEqual([
      {
        field: "metadata.namespace",
        message: 'environment "local" runs its Serves in namespace "serve", not "team-a"',
        fix: "create the Serve in namespace serve",
      },
    ]);
  });

  it("refuses a change of environment, and does not re-check an unchanged one", () => {
    const errors = validateServe(serve({ environment: "prod" }), serve(), context);
    expect(errors).toEqual([
      {
        field: "spec.environment",
        message: 'changed from "local" to "prod", but the environment of a Serve is immutable',
        fix: "set it back, or create a new Serve in the other environment and delete this one",
      },
    ]);
    // The environment was deleted after the Serve was made: scaling it is still allowed.
    const gone = serve({ environment: "gone" });
    expect(
      validateServe(serve({ environment: "gone", replicas: { min: 2, max: 3 } }), gone, context),
    ).toEqual([]);
  });

  it("refuses model URIs without version, and too little memory, together", () => {
    const errors = validateServe(
      serve({ model: { uri: "models:/iris" }, resources: { cores: 1, memory: "64Mi" } }),
      undefined,
      context,
    );
    expect(errors.map((e) => e.field)).toEqual(["spec.model.uri", "spec.resources.memory"]);

    const uris = ["models:/iris", "runs:/not-a-run/model"].map((uri) =>
      validateServe(serve({ model: { uri } }), undefined, context),
    );
    expect(uris.map((e) => e[0]?.message)).toEqual([
      '"models:/iris" names no version or alias of the registered model',
      '"runs:/not-a-run/model" is not a run artifact URI',
    ]);
    expect(formatFieldErrors(errors)).toMatch(
      /^2 errors: \(1\) spec\.model\.uri: .*; write models:\/<name>@<alias>.* \(2\) spec\.resources\.memory: /,
    );
  });

  it("refuses replicas.min 0 with why and what to do instead", () => {
    const errors = validateServe(serve({ replicas: { min: 0, max: 2 } }), undefined, context);
    expect(errors.map((e) => e.field)).toEqual(["spec.replicas.min"]);
    expect(errors[0]?.message).toMatch(/^0 \(scale to zero\) is not supported: .*hermes undeploy/);
  });
});
