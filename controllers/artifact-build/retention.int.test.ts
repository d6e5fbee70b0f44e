// @testbed cluster
/**
 * Finished builds are deleted once past finishedRetentionSeconds (0 here), except the newest keepPerServe
 * (1 here) of each Serve. The build pods are played as in artifact-build.int.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, ArtifactBuild } from "../../crds/src/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { createObject, getObject, waitFor } from "../../operator/testing/testbed.ts";
import { ARTIFACT_BUILDS } from "./reconciler.ts";
import { SERVE_LABEL } from "./render/build-job.ts";
import { useBuildTestbed } from "./testing/harness.ts";
import { finishBuildPod } from "./testing/kubelet.ts";
import { type LocalRepository, runBuildScript } from "./testing/local-build.ts";

let client: KubeClient;
let namespace: string;
let repo: LocalRepository;

const phaseOf = async (name: string) =>
  ((await getObject(client, ARTIFACT_BUILDS, namespace, name))?.status as { phase?: string } | undefined)
    ?.phase;

async function buildAndFinish(name: string, serve?: string): Promise<void> {
  await createObject(client, ARTIFACT_BUILDS, {
    apiVersion: API_VERSION,
    kind: ArtifactBuild.kind,
    metadata: { name, namespace, ...(serve && { labels: { [SERVE_LABEL]: serve } }) },
    spec: { source: { git: { url: repo.url } }, output: { image: "127.0.0.1:25500/ml/iris:1.0" } },
  });
  await waitFor(`${name} to be Building`, async () =>
    (await phaseOf(name)) === "Building" ? true : undefined,
  );
  await finishBuildPod(client, namespace, name, 0, runBuildScript(repo, {}).message);
}

const tb = useBuildTestbed({
  prefix: "artifact-build-retention",
  builds: { finishedRetentionSeconds: 0, keepPerServe: 1 },
});
beforeAll(() => {
  ({ client, namespace, repo } = tb);
});

describe("finished builds", () => {
  it("are deleted past their retention, keeping the newest of each Serve", async () => {
    await buildAndFinish("iris-1", "iris");
    // The only finished build of its Serve stays, past its retention.
    await waitFor("iris-1 to succeed", async () =>
      (await phaseOf("iris-1")) === "Succeeded" ? true : undefined,
    );
    await buildAndFinish("iris-2", "iris");
    await waitFor("iris-1 to be deleted once iris-2 finished", async () =>
      (await getObject(client, ARTIFACT_BUILDS, namespace, "iris-1")) === undefined ? true : undefined,
    );
    expect(await phaseOf("iris-2")).toBe("Succeeded");
    await buildAndFinish("unlabelled");
    await waitFor("a build of no Serve to be deleted", async () =>
      (await getObject(client, ARTIFACT_BUILDS, namespace, "unlabelled")) === undefined ? true : undefined,
    );
    expect(await phaseOf("iris-2")).toBe("Succeeded");
  });
});
