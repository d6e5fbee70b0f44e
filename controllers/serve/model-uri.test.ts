import { describe, expect, it } from "vitest";
import { isMovable, type ModelRef, parseModelURI } from "./model-uri.ts";

describe("parseModelURI", () => {
  it.each([
    ["models:/iris@champion", { kind: "registry-alias", name: "iris", alias: "champion" }, true],
    ["models:/iris/3", { kind: "registry-version", name: "iris", version: "3" }, false],
    ["models:/iris/Production", { kind: "registry-stage", name: "iris", stage: "Production" }, true],
    [
      "runs:/0123456789abcdef0123456789abcdef/model",
      { kind: "run", runId: "0123456789abcdef0123456789abcdef", path: "model" },
      false,
    ],
    [
      "mlflow-artifacts:/1/2b2b1b5727a14c5ca81b44e899979745/artifacts/model",
      { kind: "artifacts", path: "1/2b2b1b5727a14c5ca81b44e899979745/artifacts/model" },
      false,
    ],
    ["s3://models/iris/model", { kind: "s3", uri: "s3://models/iris/model" }, false],
  ])("%s", (uri, ref, movable) => {
    expect(parseModelURI(uri)).toEqual(ref);
    expect(isMovable(parseModelURI(uri) ?? (ref as ModelRef))).toBe(movable);
  });

  it.each(["models:/iris", "models:/", "runs:/abc/model", "http://mlflow/models/iris", "iris"])(
    "refuses %s",
    (uri) => {
      expect(parseModelURI(uri)).toBeUndefined();
    },
  );
});
