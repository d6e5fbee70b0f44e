import { describe, expect, it } from "vitest";
import { resource } from "./fixtures.ts";
import { validateServeEnvironment } from "./serve-environment.ts";

const environment = (spec: Record<string, unknown> = {}) =>
  resource(
    "ServeEnvironment",
    { domainSuffix: ".local", namespace: "serve", ...spec },
    { name: "local", namespace: undefined },
  );

describe("validateServeEnvironment", () => {
  it("accepts a valid environment", () => {
    expect(
      validateServeEnvironment(environment({ mlflowTrackingURI: "http://mlflow.mlflow.svc:5000" })),
    ).toEqual([]);
  });

  it("refuses URLs without a host or with credentials", () => {
    const errors = validateServeEnvironment(
      environment({ mlflowTrackingURI: "http://", featureServerURL: "https://user:secret@features.local" }),
    );
    expect(errors.map((e) => [e.field, e.message])).toEqual([
      ["spec.mlflowTrackingURI", '"http://" is not a URL'],
      [
        "spec.featureServerURL",
        '"https://user:secret@features.local" carries credentials, which would be shown to every reader of the resource',
      ],
    ]);
  });

  it("takes default resources field by field and refuses a default memory too small for a model server", () => {
    expect(validateServeEnvironment(environment({ defaultResources: { cores: 2 } }))).toEqual([]);
    const errors = validateServeEnvironment(environment({ defaultResources: { memory: "64Mi" } }));
    expect(errors.map((e) => e.field)).toEqual(["spec.defaultResources.memory"]);
    expect(errors[0]?.message).toMatch(/64Mi.*less than the 128Mi a model server needs/);
  });
});
