/** The build script as rendered, run with sh against a real git daemon on loopback and a fake buildctl. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBuildFailure } from "../status.ts";
import {
  FAKE_DIGEST,
  type LocalRepository,
  localRepository,
  runBuildScript,
} from "../testing/local-build.ts";

let repo: LocalRepository;

beforeAll(async () => {
  repo = await localRepository();
});

afterAll(() => repo?.stop());

describe("the build script", () => {
  it("builds the commit a tag resolves to, passes build args, and reports commit and digest", () => {
    const step = runBuildScript(repo, {
      source: { git: { url: repo.url, revision: "v1" }, contextDir: "serving" },
      buildArgs: [{ name: "PYTHON", value: "3.11 $(touch /tmp/x)" }],
    });
    expect(step.code, step.log).toBe(0);
    expect(JSON.parse(step.message)).toEqual({ commit: repo.commit, digest: FAKE_DIGEST });
    expect(step.args).toContain(`context=${repo.url}#${repo.commit}:serving`);
    expect(step.args).toContain("build-arg:PYTHON=3.11 $(touch /tmp/x)");
    expect(step.args).toContain("type=image,name=registry.example.com/ml/iris:1.0,push=true");
    expect(step.log).toContain(`Resolved v1 of ${repo.url} to ${repo.commit}`);
  });

  it("takes a full commit as it is and builds the repository root for contextDir .", () => {
    const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: repo.commit } } });
    expect(step.code, step.log).toBe(0);
    expect(step.args).toContain(`context=${repo.url}#${repo.commit}`);
  });

  it("fails naming spec.source.git.url when git cannot read the repository", () => {
    const url = `${repo.url.replace(/iris\.git$/, "missing.git")}`;
    const step = runBuildScript(repo, { source: { git: { url, revision: "main" } } });
    expect(step.code).toBe(1);
    expect(step.message).toMatch(
      /^failed: spec\.source\.git\.url git:\/\/127\.0\.0\.1:\d+\/missing\.git cannot be read: /,
    );
  });

  it("fails naming spec.source.git.revision when the repository has no such branch or tag", () => {
    const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: "no-such-branch" } } });
    expect(step.code).toBe(1);
    expect(step.message).toContain(
      "failed: spec.source.git.revision no-such-branch is not a branch, tag or full commit",
    );
  });

  it("reports the failing step and the end of the log when the build fails", () => {
    const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: "main" } } }, "fail");
    expect(step.code).toBe(1);
    expect(step.log).toContain("#5 [2/2] RUN exit 3");
    expect(parseBuildFailure(step.message)).toMatchObject({
      step: "[2/2] RUN exit 3",
      what: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
    });
  });
});
