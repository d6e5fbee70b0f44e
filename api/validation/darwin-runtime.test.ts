import { describe, expect, it } from "vitest";
import { imageTag, validateDarwinRuntime } from "./darwin-runtime.ts";
import { context, cpuRuntime, resource } from "./fixtures.ts";

const runtime = (spec: Record<string, unknown> = {}, name = "ray2.40.0-py311-cpu") =>
  resource(
    "DarwinRuntime",
    {
      displayName: "Ray2.40.0-Py311-CPU",
      rayVersion: "2.40.0",
      pythonVersion: "3.11",
      image: "rayproject/ray:2.40.0-py311",
      ...spec,
    },
    { name, namespace: undefined },
  );

describe("validateDarwinRuntime", () => {
  it("accepts a new runtime, and an update of an existing one that keeps its displayName", () => {
    expect(validateDarwinRuntime(runtime(), undefined, context)).toEqual([]);
    const existing = resource(
      "DarwinRuntime",
      { ...cpuRuntime.spec, description: "changed" },
      { name: cpuRuntime.name },
    );
    expect(
      validateDarwinRuntime(
        existing,
        resource("DarwinRuntime", cpuRuntime.spec, { name: cpuRuntime.name }),
        context,
      ),
    ).toEqual([]);
  });

  it("accepts images whose tags say nothing about versions", () => {
    expect(
      validateDarwinRuntime(runtime({ image: "registry.local:5000/ml/ray:latest" }), undefined, context),
    ).toEqual([]);
    expect(
      validateDarwinRuntime(runtime({ image: "registry.local:5000/ml/ray" }), undefined, context),
    ).toEqual([]);
  });

  it("refuses a displayName another runtime uses, or another runtime's name", () => {
    const taken = validateDarwinRuntime(
      runtime({ displayName: cpuRuntime.spec.displayName }),
      undefined,
      context,
    );
    expect(taken).toEqual([
      {
        field: "spec.displayName",
        message: `"Ray2.37.0-Py310-CPU" is already the displayName of DarwinRuntime "ray2.37.0-py310-cpu"`,
        fix: "choose a displayName no other runtime uses (clusters select runtimes by it)",
      },
    ]);
    const ambiguous = validateDarwinRuntime(runtime({ displayName: cpuRuntime.name }), undefined, context);
    expect(ambiguous[0]?.message).toMatch(/is the name of DarwinRuntime "ray2.37.0-py310-cpu"/);
  });

  it("refuses Ray and Python versions that contradict the image tag, both at once", () => {
    const errors = validateDarwinRuntime(
      runtime({ rayVersion: "2.39.0", pythonVersion: "3.10" }),
      undefined,
      context,
    );
    expect(errors).toEqual([
      {
        field: "spec.rayVersion",
        message: '"2.39.0" does not match the image tag "2.40.0-py311" (Ray 2.40.0)',
        fix: expect.stringMatching(/^set rayVersion to "2.40.0"/),
      },
      {
        field: "spec.pythonVersion",
        message: '"3.10" does not match the image tag "2.40.0-py311" (Python 3.11)',
        fix: expect.stringMatching(/^set pythonVersion to "3.11"/),
      },
    ]);
  });

  it("reads image tags past registry ports and digests", () => {
    expect(imageTag("localhost:5000/ray:2.1.0-py39@sha256:abc")).toBe("2.1.0-py39");
    expect(imageTag("localhost:5000/ray")).toBeUndefined();
  });
});
