import { describe, expect, it } from "vitest";
import { changedLeaves, validateArtifactBuild } from "./artifact-build.ts";
import { resource } from "./fixtures.ts";

const build = (spec: Record<string, unknown> = {}) =>
  resource("ArtifactBuild", {
    source: {
      git: { url: "https://git.example.com/ml/iris.git", revision: "main" },
      contextDir: ".",
      dockerfile: "Dockerfile",
    },
    output: { image: "registry.example.com/ml/iris:1.0", pushSecretRef: { name: "registry-creds" } },
    buildArgs: [{ name: "PYTHON_VERSION", value: "3.10" }],
    ...spec,
  });

describe("validateArtifactBuild", () => {
  it("accepts a valid build and an update that changes nothing in the spec", () => {
    expect(validateArtifactBuild(build(), undefined)).toEqual([]);
    expect(validateArtifactBuild(build(), build())).toEqual([]);
  });

  it("names every changed field of an update", () => {
    const changed = build({ output: { image: "registry.example.com/ml/iris:2.0" }, timeoutSeconds: 600 });
    expect(validateArtifactBuild(changed, build()).map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.output.image: changed from "registry.example.com/ml/iris:1.0" to "registry.example.com/ml/iris:2.0", but an ArtifactBuild is one build and cannot change',
      'spec.output.pushSecretRef: changed from {"name":"registry-creds"} to (unset), but an ArtifactBuild is one build and cannot change',
      "spec.timeoutSeconds: changed from 1800 to 600, but an ArtifactBuild is one build and cannot change",
    ]);
  });

  it("refuses ssh sources without credentials, escaping Dockerfiles, bad ARG names and digest outputs, together", () => {
    const errors = validateArtifactBuild(
      build({
        source: { git: { url: "git@git.example.com:ml/iris.git" }, dockerfile: "../Dockerfile" },
        output: { image: `registry.example.com/ml/iris:1.0@sha256:${"a".repeat(64)}` },
        buildArgs: [{ name: "1BAD", value: "x" }],
      }),
      undefined,
    );
    expect(errors.map((e) => e.field)).toEqual([
      "spec.source.git.cloneSecretRef",
      "spec.source.dockerfile",
      "spec.buildArgs[0].name",
      "spec.output.image",
    ]);
    for (const error of errors) expect(error.fix).toBeTruthy();
  });

  it("lets spec.cancel turn true, never back", () => {
    expect(validateArtifactBuild(build({ cancel: true }), build())).toEqual([]);
    expect(validateArtifactBuild(build({ cancel: false }), build({ cancel: true }))).toEqual([
      expect.objectContaining({ field: "spec.cancel", message: expect.stringContaining("stays cancelled") }),
    ]);
  });

  it("refuses an http(s) URL that BuildKit would download as a file instead of cloning", () => {
    const errors = validateArtifactBuild(
      build({ source: { git: { url: "https://git.example.com/ml/iris" } } }),
      undefined,
    );
    expect(errors).toEqual([
      expect.objectContaining({
        field: "spec.source.git.url",
        fix: 'use the repository\'s clone URL, e.g. "https://git.example.com/ml/iris.git"',
      }),
    ]);
    expect(
      validateArtifactBuild(build({ source: { git: { url: "https://github.com/org/iris" } } }), undefined),
    ).toEqual([]);
  });

  it("diffs nested values leaf by leaf", () => {
    expect(changedLeaves({ a: { b: 1, c: [1] } }, { a: { b: 1, c: [2] }, d: true }, ["spec"])).toEqual([
      { field: "spec.a.c", before: "[1]", after: "[2]" },
      { field: "spec.d", before: "(unset)", after: "true" },
    ]);
  });
});
