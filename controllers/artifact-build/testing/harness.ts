/**
 * The setup and teardown the ArtifactBuild integration tests share: a namespace, a local git repository,
 * and the ArtifactBuild controller (with the Serve controller and a ServeEnvironment of this namespace when
 * the test deploys builds) in a manager of their own. Build pods get a node selector no node matches, so
 * KWOK leaves them to the test, which plays the kubelet (./kubelet.ts).
 */
import { afterAll, beforeAll } from "vitest";
import type { z } from "zod";
import { API_VERSION } from "../../../crds/src/index.ts";
import type { KubeClient } from "../../../operator/kube-client.ts";
import {
  createObject,
  startManager,
  type TestManager,
  testbedClient,
  testConfig,
} from "../../../operator/testing/testbed.ts";
import { createNamespace, deleteNamespace } from "../../../test-e2e/support/fixture.ts";
import { kubectl } from "../../../test-e2e/support/kubectl.ts";
import { createServeController, SERVE_ENVIRONMENTS } from "../../serve/reconciler.ts";
import { artifactBuildsConfig } from "../config.ts";
import { createArtifactBuildController } from "../reconciler.ts";
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
  const tb = {} as BuildTestbed;
  const { environment } = options;
  beforeAll(async () => {
    tb.client = testbedClient();
    tb.namespace = await createNamespace(tb.client, options.prefix);
    tb.repo = await localRepository();
    if (environment) {
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
    tb.operator = await startManager(
      environment ? [createServeController(), controller] : [controller],
      testConfig(tb.namespace),
    );
  }, 120_000);

  afterAll(async () => {
    await tb.operator?.stop();
    tb.repo?.stop();
    if (tb.namespace) {
      const kinds = environment ? "serves,artifactbuilds,jobs,pods" : "artifactbuilds,jobs,pods";
      await kubectl(["delete", kinds, "--all", "-n", tb.namespace, "--wait=false"]);
      await deleteNamespace(tb.client, tb.namespace);
    }
    if (environment)
      await kubectl(["delete", "serveenvironment", environment, "--ignore-not-found", "--wait=false"]);
    tb.client?.close();
  });
  return tb;
}
