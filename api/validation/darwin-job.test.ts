import { describe, expect, it } from "vitest";
import { validateDarwinJob } from "./darwin-job.ts";
import { resource } from "./fixtures.ts";

const job = (spec: Record<string, unknown> = {}) =>
  resource("DarwinJob", { cluster: "housing-project", entrypoint: "python train.py", ...spec });

describe("validateDarwinJob", () => {
  it("accepts a job, and an update that leaves the spec alone", () => {
    expect(validateDarwinJob(job(), undefined)).toEqual([]);
    expect(validateDarwinJob(job(), job())).toEqual([]);
  });

  it("refuses a changed spec, naming each changed field", () => {
    const errors = validateDarwinJob(job({ entrypoint: "python train.py --epochs 5" }), job());
    expect(errors.map((e) => e.field)).toEqual(["spec.entrypoint"]);
    expect(errors[0]?.fix).toMatch(/create a new DarwinJob/);
  });

  it("names a working directory Ray cannot fetch", () => {
    const errors = validateDarwinJob(job({ runtimeEnv: { workingDir: "/home/ana/code" } }), undefined);
    expect(errors.map((e) => e.field)).toEqual(["spec.runtimeEnv.workingDir"]);
  });
});
