import { describe, expect, it } from "vitest";
import { DarwinCluster } from "../../crds/src/index.ts";
import { fieldPath, formatFieldErrors, normalizeFieldErrors } from "./field-error.ts";
import { fieldDescription } from "./schema.ts";

describe("field errors", () => {
  it("builds paths with indices", () => {
    expect(fieldPath("spec", "workerGroups", 1, "maxPods")).toBe("spec.workerGroups[1].maxPods");
  });

  it("formats one error plainly and several numbered", () => {
    expect(formatFieldErrors([{ field: "spec.a", message: "is bad", fix: "fix it" }])).toBe(
      "spec.a: is bad; fix it",
    );
    expect(
      formatFieldErrors([
        { field: "spec.a", message: "is bad" },
        { field: "spec.b", message: "too", fix: "x" },
      ]),
    ).toBe("2 errors: (1) spec.a: is bad (2) spec.b: too; x");
  });

  it("drops repeated errors", () => {
    const e = { field: "spec.a", message: "is bad" };
    expect(normalizeFieldErrors([e, { ...e }, { field: "spec.b", message: "is bad" }])).toHaveLength(2);
  });

  it("finds field descriptions through arrays", () => {
    expect(fieldDescription(DarwinCluster, ["workerGroups", 0, "maxPods"])).toMatch(/^Most workers/);
    expect(fieldDescription(DarwinCluster, ["nope"])).toBeUndefined();
  });
});
