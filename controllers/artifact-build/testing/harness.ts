/**
 * The setup and teardown the ArtifactBuild integration tests share: a namespace, a local git repository,
 * and the ArtifactBuild controller (with the Serve controller and a ServeEnvironment of this namespace when
 * the test deploys builds), on the shared fixture (useTestbed). Build pods get a node selector no node
 * matches, so KWOK leaves them to the test, which plays the kubelet (./kubelet.ts).
 */
import { beforeAll } from "vitest";
import type { z } from "zod";
import { API_VERSION } from "../../../crds/src/index.ts";
import type { KubeClient } from "../../../operator/kube-client.ts";
import { createObject, type TestManager } from "../../../operator/testing/testbed.ts";
import { useTestbed } from "../../../test-e2e/support/fixture.ts";
import { kubectl } from "../../../test-e2e/support/kubectl.ts";
import { createServeController, SERVE_ENVIRONMENTS, SERVES } from "../../serve/reconciler.ts";
import { JOBS, PODS } from "../../shared/resource-types.ts";
import { artifactBuildsConfig } from "../config.ts";
import { ARTIFACT_BUILDS, createArtifactBuildController } from "../reconciler.ts";
import { type LocalRepository, localRepository } from "./local-build.ts";

export interface BuildTestbed {
  client: KubeClient;
  namespace: string;
  operator: TestManager;
  repo: LocalRepository;
}

export function useBuildTestbed(options: {
  /** Prefix of the test namespace's name. */
  prefix: string;
  /** With the Serve controller and this ServeEnvironment (its Serves in the test namespace). */
  environment?: string;
  /** Settings of the build controller beyond the node selector. */
  builds?: Omit<z.input<typeof artifactBuildsConfig>, "nodeSelector">;
}): BuildTestbed {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const { environment } = options;
  const testbed = useTestbed({
    namespace: options.prefix,
    cleanup: environment ? [SERVES, ARTIFACT_BUILDS, JOBS, PODS] : [ARTIFACT_BUILDS, JOBS, PODS],
  });
  const tb = {} as BuildTestbed;
  beforeAll(async () => {
    tb.client = testbed.client;
    tb.namespace = testbed.namespace;
    tb.repo = await localRepository();
    testbed.defer(() => tb.repo.stop());
    if (environment) {
      testbed.defer(() =>
        kubectl(["delete", "serveenvironment", environment, "--ignore-not-found", "--wait=false"]),
      );
      await createObject(tb.client, SERVE_ENVIRONMENTS, {
        apiVersion: API_VERSION,
        kind: "ServeEnvironment",
        metadata: { name: environment },
        spec: { domainSuffix: ".local", clusterName: "testbed", namespace: tb.namespace },
      });
    }
    const builds = artifactBuildsConfig.parse({
      ...options.builds,
      nodeSelector: { "darwin.dreamhorizon.org/test-no-node": run },
    });
    const controller = createArtifactBuildController({ builds, imageSize: async () => 1 });
    tb.operator = await testbed.startOperator(
      environment ? [createServeController(), controller] : [controller],
    );
  }, 120_000);
  return tb;
}
