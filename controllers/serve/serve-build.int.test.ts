// @testbed cluster
/**
 * A Serve whose image comes from an ArtifactBuild (spec.artifactBuildRef), with the Serve and ArtifactBuild
 * controllers running: it waits, deploying nothing, while the build is queued and building, and deploys
 * `repository@sha256:<digest>` once the build has succeeded. The build pod is played by the test (see
 * ../artifact-build/artifact-build.int.test.ts); the model is an s3:// URI, which needs no MLflow.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/src/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { createObject, getObject, waitFor } from "../../operator/testing/testbed.ts";
import { ARTIFACT_BUILDS } from "../artifact-build/reconciler.ts";
import { useBuildTestbed } from "../artifact-build/testing/harness.ts";
import { finishBuildPod } from "../artifact-build/testing/kubelet.ts";
import { FAKE_DIGEST, type LocalRepository, runBuildScript } from "../artifact-build/testing/local-build.ts";
import { DEPLOYMENTS } from "../shared/resource-types.ts";
import { SERVES } from "./reconciler.ts";
import type { ServeStatus } from "./revisions.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `serve-build-${RUN}`;

let client: KubeClient;
let namespace: string;
let repo: LocalRepository;

const serveStatus = async () =>
  ((await getObject(client, SERVES, namespace, "iris"))?.status ?? {}) as ServeStatus;
const ready = (s: ServeStatus) => s.conditions?.find((c) => c.type === "Ready");

const tb = useBuildTestbed({ prefix: "serve-build", environment: ENV });
beforeAll(() => {
  ({ client, namespace, repo } = tb);
});

describe("a Serve with artifactBuildRef", () => {
  it("waits for the build, naming it and its phase, then deploys the pushed image by digest", async () => {
    await createObject(client, SERVES, {
      apiVersion: API_VERSION,
      kind: "Serve",
      metadata: { name: "iris", namespace },
      spec: {
        environment: ENV,
        type: "api",
        model: { uri: "s3://models/iris/1" },
        artifactBuildRef: { name: "iris-image" },
      },
    });
    const missing = await waitFor("the Serve to wait for a build that does not exist", async () => {
      const s = await serveStatus();
      return ready(s)?.reason === "WaitingForBuild" ? s : undefined;
    });
    expect(missing.phase).toBe("Resolving");
    expect(ready(missing)?.message).toContain(
      "Waiting for ArtifactBuild iris-image, which does not exist yet",
    );

    await createObject(client, ARTIFACT_BUILDS, {
      apiVersion: API_VERSION,
      kind: "ArtifactBuild",
      metadata: { name: "iris-image", namespace },
      spec: { source: { git: { url: repo.url } }, output: { image: "127.0.0.1:25500/ml/iris:1.0" } },
    });
    await waitFor("the Serve to see the build building", async () =>
      ready(await serveStatus())?.message?.includes("is Building") ? true : undefined,
    );
    expect(await getObject(client, DEPLOYMENTS, namespace, "iris")).toBeUndefined();

    const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: "main" } } });
    await finishBuildPod(client, namespace, "iris-image", 0, step.message);
    const deployment = await waitFor("the Deployment", () =>
      getObject(client, DEPLOYMENTS, namespace, "iris"),
    );
    const containers = (deployment.spec as { template: { spec: { containers: Array<{ image: string }> } } })
      .template.spec.containers;
    expect(containers[0]?.image).toBe(`127.0.0.1:25500/ml/iris@${FAKE_DIGEST}`);
    const status = await waitFor("the Serve to roll out", async () => {
      const s = await serveStatus();
      return s.phase === "Deploying" || s.phase === "Ready" ? s : undefined;
    });
    expect(status.currentRevision?.image).toBe(`127.0.0.1:25500/ml/iris@${FAKE_DIGEST}`);
    expect(ready(status)?.reason).not.toBe("WaitingForBuild");
  });
});
