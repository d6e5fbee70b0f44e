// @testbed cluster data
/**
 * The seed's order of commands for a ray-serve Serve, with the admission webhook judging every Serve of this
 * test's namespace as it does in a cluster: `hermes create-serve --type ray-serve` (no model yet) is accepted
 * and waits for a model with nothing running; `hermes deploy-model` then deploys it as a RayService.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, Serve } from "../../crds/src/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { freePort } from "../../test-e2e/support/free-port.ts";
import { kubectl } from "../../test-e2e/support/kubectl.ts";
import { deleteWebhookConfiguration } from "../../webhooks/kube.ts";
import { startWebhookServer, type WebhookServer } from "../../webhooks/start.ts";
import { RAY_SERVICES } from "../shared/resource-types.ts";
import { servingConfig } from "./config.ts";
import { createServeController, SERVES } from "./reconciler.ts";
import { rayServiceName } from "./render/ray-service.ts";
import type { ServeStatus } from "./revisions.ts";
import { hermes, hermesOk } from "./testing/hermes.ts";
import { mlflowURL, trainIris } from "./testing/mlflow.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `serve-waits-${RUN}`;
const MODEL = `iris-waits-${RUN}`;
const CONFIGURATION = `darwin-webhook-serve-waits-${RUN}`;
const SLOW = { timeoutMs: 120_000, intervalMs: 500 };

let client: KubeClient;
let namespace: string;
let webhook: WebhookServer | undefined;
let home: string;

const statusOf = async (name: string) =>
  ((await getObject(client, SERVES, namespace, name))?.status ?? {}) as ServeStatus;
const ready = (status: ServeStatus) => status.conditions?.find((c) => c.type === "Ready");

/** Waits until the apiserver sends this namespace's Serves to the webhook (a configuration loads in a moment). */
async function untilWebhookJudges(): Promise<void> {
  const probe = {
    apiVersion: API_VERSION,
    kind: "Serve",
    metadata: { name: "probe", namespace },
    spec: { environment: `nowhere-${RUN}`, type: "api" },
  };
  await waitFor(
    "the webhook to judge Serves",
    async () => {
      const result = await kubectl(["create", "--dry-run=server", "-f", "-"], probe);
      return result.stderr.includes(`ServeEnvironment "nowhere-${RUN}" does not exist`) || undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

const tb = useTestbed({ namespace: "serve-waits", cleanup: [SERVES] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(() => kubectl(["delete", "serveenvironment", ENV, "--ignore-not-found", "--wait=false"]));
  tb.defer(async () => {
    await webhook?.close();
    await deleteWebhookConfiguration(client, CONFIGURATION);
  });
  home = mkdtempSync(join(tmpdir(), "hermes-"));
  const port = await freePort();
  webhook = await startWebhookServer({
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
        kinds: [Serve],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
      },
    },
  });
  await untilWebhookJudges();
  const serving = servingConfig.parse({ mlflowTrackingURI: mlflowURL(), modelCheckIntervalSeconds: 2 });
  await tb.startOperator([createServeController({ serving })]);
  await trainIris(MODEL, "champion");
}, 240_000);

describe("a ray-serve Serve created before its model", () => {
  it("is accepted, waits for a model with nothing running, and deploys as a RayService once deploy-model sets it", async () => {
    await hermesOk(
      [
        "create-environment",
        "--name",
        ENV,
        "--domain-suffix",
        ".local",
        "--cluster-name",
        "kind",
        "--namespace",
        namespace,
      ],
      home,
    );
    // The seed's command, verbatim but for the namespace.
    const created = await hermes(
      [
        "create-serve",
        "--name",
        "iris-classifier",
        "--type",
        "ray-serve",
        "--space",
        namespace,
        "--description",
        "Iris classification model",
      ],
      home,
    );
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);

    const waiting = await waitFor(
      "the Serve to wait for its model",
      async () => {
        const status = await statusOf("iris-classifier");
        return ready(status)?.reason === "WaitingForModel" ? status : undefined;
      },
      SLOW,
    );
    expect(waiting.phase).toBe("Undeployed");
    expect(ready(waiting)?.message).toMatch(/^Waiting for a model: nothing runs until spec.model.uri is set/);
    expect(waiting.url).toBeUndefined();
    expect(
      await getObject(client, RAY_SERVICES, namespace, rayServiceName("iris-classifier")),
    ).toBeUndefined();
    const shown = await hermesOk(["status", "--serve-name", "iris-classifier", "--space", namespace], home);
    expect(shown).toContain("phase:     Undeployed");
    expect(shown).toContain("Ready: False WaitingForModel: Waiting for a model");

    await hermesOk(
      [
        "deploy-model",
        "--serve-name",
        "iris-classifier",
        "--model-uri",
        `models:/${MODEL}@champion`,
        "--cores",
        "1",
        "--memory",
        "2",
        "--node-capacity",
        "spot",
        "--min-replicas",
        "1",
        "--max-replicas",
        "2",
        "--space",
        namespace,
        "--no-wait",
      ],
      home,
    );
    const rayService = await waitFor(
      "the RayService",
      () => getObject(client, RAY_SERVICES, namespace, rayServiceName("iris-classifier")),
      SLOW,
    );
    expect(JSON.stringify(rayService.spec)).toContain(`models:/${MODEL}/1`);
    const deploying = await waitFor(
      "the Serve to roll out its first revision",
      async () => {
        const status = await statusOf("iris-classifier");
        return status.phase === "Deploying" ? status : undefined;
      },
      SLOW,
    );
    expect(deploying.resolvedModel).toMatchObject({ name: MODEL, version: "1" });
    expect(deploying.currentRevision?.modelURI).toBe(`models:/${MODEL}/1`);
    expect(ready(deploying)?.reason).toBe("RollingOut");
  }, 240_000);
});
