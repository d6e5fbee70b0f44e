// @testbed control
/**
 * Admission of ArtifactBuilds: the webhook refuses a repository URL BuildKit cannot clone, naming the field,
 * judging the file's namespace as in a cluster. What a build does (queue, cancel, deadline, success and
 * failure) is shown with real builds on the testbed's node (test-e2e/node/artifact-build*.int.test.ts).
 */
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, ArtifactBuild } from "../../crds/src/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { freePort } from "../../test-e2e/support/free-port.ts";
import { kubectl } from "../../test-e2e/support/kubectl.ts";
import { deleteWebhookConfiguration } from "../../webhooks/kube.ts";
import { startWebhookServer } from "../../webhooks/start.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const CONFIGURATION = `darwin-webhook-artifact-build-${RUN}`;

const tb = useTestbed({ namespace: "artifact-build" });
let client: KubeClient;
let namespace: string;

const build = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: API_VERSION,
  kind: ArtifactBuild.kind,
  metadata: { name, namespace },
  spec: {
    source: { git: { url: "https://git.example.com/ml/iris.git", revision: "main" } },
    output: { image: `127.0.0.1:25500/${namespace}/iris:1.0` },
    ...spec,
  },
});

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => deleteWebhookConfiguration(client, CONFIGURATION));
  const port = await freePort();
  const webhook = await startWebhookServer({
    client,
    port,
    host: "127.0.0.1",
    logger: pino({ level: process.env.DARWIN_TEST_LOG ?? "silent" }),
    certificates: {
      mode: "self-managed",
      namespace,
      serviceName: "darwin-webhook",
      ipAddresses: ["127.0.0.1"],
    },
    configuration: {
      manage: "apply",
      options: {
        name: CONFIGURATION,
        target: { url: `https://127.0.0.1:${port}` },
        kinds: [ArtifactBuild],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
      },
    },
  });
  tb.defer(() => webhook.close());
}, 120_000);

describe("ArtifactBuild", () => {
  it("refuses a repository URL BuildKit cannot clone at admission, naming the field", async () => {
    const http = await waitFor("the webhook to judge ArtifactBuilds", async () => {
      const result = await kubectl(
        ["create", "--dry-run=server", "-f", "-"],
        build("bad-url", {
          source: { git: { url: "https://git.example.com/ml/iris" } },
        }),
      );
      return result.stderr.includes("spec.source.git.url") ? result : undefined;
    });
    expect(http.stderr).toContain("does not end in .git");
    const scheme = await kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      build("bad-scheme", {
        source: { git: { url: "ftp://git.example.com/iris.git" } },
      }),
    );
    expect(scheme.stderr).toContain("spec.source.git.url");
  });
});
