// @testbed node
/**
 * `hermes build` as a user runs it, against real builds on the real node (the ArtifactBuild and Serve
 * controllers in this process): the sample model server (samples/local/iris-server) in a directory of a
 * git repository served on the node's address, built from its URL, revision and path with --follow (the
 * user sees BuildKit's steps as they run) and --deploy (the Serve runs the built image and predicts); a
 * Dockerfile whose RUN fails ends the command with 1, the failing step and the end of the log.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { SERVES } from "../../controllers/serve/reconciler.ts";
import { hermes } from "../../controllers/serve/testing/hermes.ts";
import { getObject } from "../../operator/testing/testbed.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { createWaitingServe, fromPods, podRegistry, statusOf, useRealBuilds } from "./real-builds.ts";

const SAMPLE = join(import.meta.dirname, "..", "..", "samples", "local", "iris-server");
/** The sample's files under serving/ of the repository. */
const serving = Object.fromEntries(
  readdirSync(SAMPLE).map((file) => [`serving/${file}`, readFileSync(join(SAMPLE, file), "utf8")]),
);
/** Pulling the sample's 390 MB base into the build pod, training and pushing: minutes on the busy node. */
const BUILD_S = 900;

const rb = useRealBuilds({
  prefix: "build-real-hermes",
  repositories: {
    "iris-server": {
      main: serving,
      broken: { "serving/Dockerfile": "ARG BASE\nFROM $BASE\nRUN echo checking the model && exit 3\n" },
    },
  },
  builds: { maxConcurrent: 1 },
  serve: true,
});
let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "hermes-"));
});

/** `hermes build` of the repository's serving/ at `revision`, pushing to the registry as pods reach it. */
const build = (revision: string, base: string, ...args: string[]) =>
  hermes(
    [
      "build",
      "--git",
      rb.url("iris-server"),
      "--revision",
      revision,
      "--path",
      "serving",
      "--build-arg",
      `BASE=${fromPods(base)}`,
      "-n",
      rb.namespace,
      "--timeout",
      String(BUILD_S),
      ...args,
    ],
    home,
    { DARWIN_REGISTRY: podRegistry() },
    (2 * BUILD_S + 60) * 1000,
  );

describe("hermes build on the real node", () => {
  it(
    "builds from a git URL, revision and path, shows BuildKit's steps, and --deploy runs the image in the Serve",
    async () => {
      // A Serve waiting for its first build: it deploys nothing until it is pointed at one that succeeded.
      await createWaitingServe(rb, "iris-first");
      const result = await build(
        "main",
        requireEnv("DARWIN_IMAGE_DARWIN_MLFLOW_SERVE"),
        "--name",
        "iris-first",
        "--follow",
        "--deploy",
        "iris",
      );
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      const image = `${podRegistry()}/${rb.namespace}/iris-server`;
      expect(result.stdout).toContain(
        `artifactbuild/iris-first created in namespace ${rb.namespace}: ${image}:main`,
      );
      // BuildKit's plain progress, as the build pod wrote it: the training step and the push.
      expect(result.stdout).toContain(
        `Resolved main of ${rb.url("iris-server")} to ${rb.commits["iris-server"]?.main}`,
      );
      expect(result.stdout).toMatch(/#\d+ \[\d\/\d\] RUN python train.py model.pkl/);
      expect(result.stdout).toMatch(/#\d+ pushing layers/);
      const status = await statusOf(rb, "iris-first");
      // ... to its last line, the build script's result.
      expect(result.stdout).toContain(
        `Pushed ${image}:main@${status.imageDigest} built from ${rb.commits["iris-server"]?.main}`,
      );
      expect(result.stderr).toContain(
        `iris-first: Succeeded: built ${rb.commits["iris-server"]?.main}, pushed ${image}@${status.imageDigest}`,
      );
      expect(result.stdout).toContain("serve/iris deploys iris-first");
      const serve = await getObject(rb.client, SERVES, rb.namespace, "iris");
      expect((serve?.status as { phase?: string } | undefined)?.phase).toBe("Ready");
      const clusterIP = (
        await kubectlOk(["-n", rb.namespace, "get", "service", "iris", "-o", "jsonpath={.spec.clusterIP}"])
      ).trim();
      const prediction = await fetch(`http://${clusterIP}/iris/predict`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ features: [[5.1, 3.5, 1.4, 0.2]] }),
      });
      expect(prediction.status).toBe(200);
      expect(await prediction.json()).toEqual({ predictions: ["setosa"] });
    },
    (2 * BUILD_S + 120) * 1000,
  );

  it(
    "--follow ends 1 on a failing RUN, printing the failing step and the end of the build log",
    async () => {
      const result = await build(
        "broken",
        requireEnv("DARWIN_IMAGE_DARWIN_BASE"),
        "--name",
        "broken",
        "--follow",
      );
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(1);
      expect(result.stderr).toMatch(
        /broken: Failed: Step \[2\/2\] RUN echo checking the model && exit 3 failed/,
      );
      expect(result.stdout).toContain("checking the model");
      expect(result.stdout).toContain("--- end of the build log ---");
    },
    (BUILD_S + 60) * 1000,
  );
});
