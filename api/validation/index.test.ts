import { describe, expect, it } from "vitest";
import { KINDS } from "../../crds/src/index.ts";
import { VALIDATORS, validatorFor } from "./index.ts";

describe("validation modules", () => {
  it("has a module of its own for every Darwin kind", () => {
    expect(VALIDATORS.map((v) => v.kind.kind).sort()).toEqual(KINDS.map((k) => k.kind).sort());
  });

  it("finds validators by kind", () => {
    expect(validatorFor("DarwinCluster")?.needs).toEqual(["runtimes"]);
    expect(validatorFor("Pod")).toBeUndefined();
  });
});
