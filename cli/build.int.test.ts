// @testbed cluster
/**
 * `hermes build` as a user runs it, against the testbed with the ArtifactBuild and Serve controllers in
 * this process; the test plays the build pods' kubelet (controllers/artifact-build/testing/kubelet.ts)
 * with termination messages from the build script run against a git daemon on loopback.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ARTIFACT_BUILDS } from "../controllers/artifact-build/reconciler.ts";
import { useBuildTestbed } from "../controllers/artifact-build/testing/harness.ts";
import { finishBuildPod } from "../controllers/artifact-build/testing/kubelet.ts";
import {
  FAKE_DIGEST,
  type LocalRepository,
  runBuildScript,
} from "../controllers/artifact-build/testing/local-build.ts";
import { SERVES } from "../controllers/serve/reconciler.ts";
import { hermes } from "../controllers/serve/testing/hermes.ts";
import { DEPLOYMENTS } from "../controllers/shared/resource-types.ts";
import { API_VERSION } from "../crds/src/index.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { createObject, getObject, waitFor } from "../operator/testing/testbed.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `hermes-build-${RUN}`;

let client: KubeClient;
let namespace: string;
let repo: LocalRepository;
let home: string;

const phaseOf = async (name: string) =>
  ((await getObject(client, ARTIFACT_BUILDS, namespace, name))?.status as { phase?: string } | undefined)
    ?.phase;
const untilBuilding = (name: string) =>
  waitFor(`${name} to be Building`, async () => ((await phaseOf(name)) === "Building" ? true : undefined));

const tb = useBuildTestbed({ prefix: "hermes-build", environment: ENV });
beforeAll(() => {
  ({ client, namespace, repo } = tb);
  home = mkdtempSync(join(tmpdir(), "hermes-"));
});

const build = (...args: string[]) =>
  hermes(["build", "--git", repo.url, "-n", namespace, ...args], home, {
    DARWIN_REGISTRY: "127.0.0.1:25500",
  });

describe("hermes build", () => {
  it("--follow shows the progress and ends 0 with the pushed image once the build succeeds", async () => {
    const running = build("--name", "followed", "--follow", "--timeout", "60");
    await untilBuilding("followed");
    await finishBuildPod(client, namespace, "followed", 0, runBuildScript(repo, {}).message);
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `artifactbuild/followed created in namespace ${namespace}: 127.0.0.1:25500/${namespace}/iris:main`,
    );
    expect(result.stderr).toContain("followed: Building");
    expect(result.stderr).toContain(
      `Succeeded: built ${repo.commit}, pushed 127.0.0.1:25500/${namespace}/iris@${FAKE_DIGEST}`,
    );
  });

  it("--follow ends 1 on a failed build, printing the failing step and the end of its log", async () => {
    const running = build("--name", "broken", "--follow", "--timeout", "60");
    await untilBuilding("broken");
    await finishBuildPod(client, namespace, "broken", 1, runBuildScript(repo, {}, "fail").message);
    const result = await running;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("broken: Failed: Step [2/2] RUN exit 3 failed");
    expect(result.stdout).toContain("--- end of the build log ---");
  });

  it("--deploy points the Serve at the built image once the build succeeded", async () => {
    await createObject(client, SERVES, {
      apiVersion: API_VERSION,
      kind: "Serve",
      metadata: { name: "iris", namespace },
      spec: { environment: ENV, type: "api", model: { uri: "s3://models/iris/1" }, image: "python:3.11" },
    });
    const running = build("--name", "for-iris", "--deploy", "iris", "--no-wait", "--timeout", "60");
    await untilBuilding("for-iris");
    await finishBuildPod(client, namespace, "for-iris", 0, runBuildScript(repo, {}).message);
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("serve/iris deploys for-iris");
    const build_ = await getObject(client, ARTIFACT_BUILDS, namespace, "for-iris");
    expect(build_?.metadata.labels?.["darwin.dreamhorizon.org/serve"]).toBe("iris");
    await waitFor("the Deployment to run the built image", async () => {
      const deployment = await getObject(client, DEPLOYMENTS, namespace, "iris");
      const image = (deployment?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } })
        ?.template?.spec?.containers?.[0]?.image;
      return image === `127.0.0.1:25500/${namespace}/iris@${FAKE_DIGEST}` ? true : undefined;
    });
  });
});
