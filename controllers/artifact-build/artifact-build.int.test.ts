// @testbed cluster
/**
 * The ArtifactBuild controller on the testbed's cluster tier: the controller-manager's Job controller and
 * garbage collector act on the build Jobs, and this test plays the kubelet of the build pods. The pods are
 * kept off the KWOK nodes (a node selector no node matches; KWOK would complete any Job pod at once with no
 * termination message), and the test writes their status as a kubelet does: Running, then terminated with
 * the build container's termination message. The messages come from the rendered build script run here
 * (testing/local-build.ts): against a real git daemon on loopback, with a fake buildctl standing in for
 * BuildKit. The admission webhook judges the file's namespace, as in a cluster.
 */
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, ArtifactBuild } from "../../crds/src/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { eventsAbout, getObject, mergePatch, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { freePort } from "../../test-e2e/support/free-port.ts";
import { kubectl } from "../../test-e2e/support/kubectl.ts";
import { deleteWebhookConfiguration } from "../../webhooks/kube.ts";
import { startWebhookServer } from "../../webhooks/start.ts";
import { JOBS, PODS } from "../shared/resource-types.ts";
import { artifactBuildsConfig } from "./config.ts";
import { ARTIFACT_BUILDS, createArtifactBuildController } from "./reconciler.ts";
import { buildJobName } from "./render/build-job.ts";
import type { ArtifactBuildStatus } from "./status.ts";
import { buildPods, finishBuildPod } from "./testing/kubelet.ts";
import { FAKE_DIGEST, type LocalRepository, localRepository, runBuildScript } from "./testing/local-build.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const CONFIGURATION = `darwin-webhook-artifact-build-${RUN}`;
/** A node label no node has: build pods stay unscheduled, for this test to play their kubelet. */
const NO_NODE = { "darwin.dreamhorizon.org/test-no-node": RUN };
/** Stands in for the registry's answer: the KWOK cluster pushes nothing anywhere. */
const FAKE_IMAGE_SIZE = 4242;

const tb = useTestbed({ namespace: "artifact-build", cleanup: [ARTIFACT_BUILDS, JOBS, PODS] });
let client: KubeClient;
let namespace: string;
let repo: LocalRepository;

const build = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: API_VERSION,
  kind: ArtifactBuild.kind,
  metadata: { name, namespace },
  spec: {
    source: { git: { url: repo.url, revision: "main" } },
    output: { image: `127.0.0.1:25500/${namespace}/iris:1.0` },
    ...spec,
  },
});
const create = (object: KubeObject) =>
  client.requestObject({
    method: "POST",
    path: `/apis/${API_VERSION}/namespaces/${namespace}/artifactbuilds`,
    body: object,
  });
const statusOf = async (name: string) =>
  ((await getObject(client, ARTIFACT_BUILDS, namespace, name))?.status ?? {}) as ArtifactBuildStatus;
const condition = (status: ArtifactBuildStatus, type: string) =>
  status.conditions?.find((c) => c.type === type);
const until = (name: string, what: string, check: (s: ArtifactBuildStatus) => boolean, timeoutMs = 30_000) =>
  waitFor(
    `${name}: ${what}`,
    async () => {
      const status = await statusOf(name);
      return check(status) ? status : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );

const finishPod = (name: string, exitCode: number, message: string) =>
  finishBuildPod(client, namespace, name, exitCode, message);
const podsOf = (name: string) => buildPods(client, namespace, name);

const success = () => {
  const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: "main" } } });
  if (step.code !== 0) throw new Error(`the build script failed: ${step.log}`);
  return step.message;
};

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  repo = await localRepository();
  tb.defer(() => repo.stop());
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
  const builds = artifactBuildsConfig.parse({
    maxConcurrent: 1,
    maxConcurrentPerNamespace: 1,
    nodeSelector: NO_NODE,
  });
  await tb.startOperator([createArtifactBuildController({ builds, imageSize: async () => FAKE_IMAGE_SIZE })]);
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

  it("queues three builds behind a running one at positions 1, 2, 3 and runs them in that order", async () => {
    await create(build("first"));
    await until("first", "Building", (s) => s.phase === "Building");
    for (const name of ["q1", "q2", "q3"]) await create(build(name));
    for (const [name, position] of [
      ["q1", 1],
      ["q2", 2],
      ["q3", 3],
    ] as const) {
      const status = await until(name, `queue position ${position}`, (s) => s.queuePosition === position);
      expect(status.phase).toBe("Queued");
      expect(condition(status, "Succeeded")?.reason).toBe("Queued");
    }
    const order: string[] = [];
    for (const name of ["first", "q1", "q2", "q3"]) {
      await until(name, "Building", (s) => s.phase === "Building");
      order.push(name);
      // Only one build runs: the others are still queued, their positions moved up.
      const waiting = ["q1", "q2", "q3"].slice(order.length - 1);
      for (const [index, other] of waiting.entries())
        await until(
          other,
          `position ${index + 1}`,
          (s) => s.phase === "Queued" && s.queuePosition === index + 1,
        );
      await finishPod(name, 0, success());
      await until(name, "Succeeded", (s) => s.phase === "Succeeded");
    }
    expect(order).toEqual(["first", "q1", "q2", "q3"]);
    const starts = await Promise.all(order.map(async (n) => (await statusOf(n)).startTime ?? ""));
    expect([...starts].sort()).toEqual(starts);
  });

  it("reports the commit, digest, image and size of a successful build, with Succeeded and Ready", async () => {
    const status = await statusOf("first");
    expect(status).toMatchObject({
      phase: "Succeeded",
      commitSha: repo.commit,
      imageDigest: FAKE_DIGEST,
      image: `127.0.0.1:25500/${namespace}/iris@${FAKE_DIGEST}`,
      imageSize: FAKE_IMAGE_SIZE,
    });
    expect(status.startTime).toBeDefined();
    expect(status.completionTime).toBeDefined();
    expect(status).not.toHaveProperty("queuePosition");
    expect(condition(status, "Succeeded")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(condition(status, "Ready")).toMatchObject({ status: "True" });
    const events = await eventsAbout(client, namespace, "first");
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(["Started", "Succeeded"]));
  });

  it("fails with the failing step and the end of its log", async () => {
    await create(build("broken"));
    await until("broken", "Building", (s) => s.phase === "Building");
    const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: "main" } } }, "fail");
    await finishPod("broken", 1, step.message);
    const status = await until("broken", "Failed", (s) => s.phase === "Failed");
    expect(status.failedStep).toBe("[2/2] RUN exit 3");
    expect(status.logTail).toContain('ERROR: process "/bin/sh -c exit 3" did not complete successfully');
    expect(condition(status, "Succeeded")).toMatchObject({ status: "False", reason: "BuildFailed" });
    expect(condition(status, "Succeeded")?.message).toContain("Step [2/2] RUN exit 3 failed");
  });

  it("fails naming spec.source.git.revision when the revision does not exist", async () => {
    await create(build("no-revision", { source: { git: { url: repo.url, revision: "no-such-branch" } } }));
    await until("no-revision", "Building", (s) => s.phase === "Building");
    const step = runBuildScript(repo, { source: { git: { url: repo.url, revision: "no-such-branch" } } });
    await finishPod("no-revision", 1, step.message);
    const status = await until("no-revision", "Failed", (s) => s.phase === "Failed");
    expect(condition(status, "Succeeded")?.message).toContain("spec.source.git.revision no-such-branch");
  });

  it("cancels a running build: its Job and pod are deleted and the phase is Cancelled", async () => {
    await create(build("cancelled"));
    await until("cancelled", "Building", (s) => s.phase === "Building");
    await waitFor("the build pod", async () => (await podsOf("cancelled"))[0]);
    await mergePatch(client, ARTIFACT_BUILDS, namespace, "cancelled", { spec: { cancel: true } });
    const status = await until("cancelled", "Cancelled", (s) => s.phase === "Cancelled");
    expect(condition(status, "Succeeded")).toMatchObject({ status: "False", reason: "Cancelled" });
    await waitFor("the Job to be gone", async () =>
      (await getObject(client, JOBS, namespace, buildJobName("cancelled"))) === undefined ? true : undefined,
    );
    await waitFor(
      "the pod to be gone",
      async () => ((await podsOf("cancelled")).length === 0 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    const back = await kubectl([
      "patch",
      "artifactbuild",
      "cancelled",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"cancel":false}}',
    ]);
    expect(back.stderr).toContain("stays cancelled");
  });

  it("fails with DeadlineExceeded when the build outlives timeoutSeconds", async () => {
    await create(build("slow", { timeoutSeconds: 60 }));
    await until("slow", "Building", (s) => s.phase === "Building");
    const status = await until("slow", "Failed", (s) => s.phase === "Failed", 120_000);
    expect(condition(status, "Succeeded")).toMatchObject({ status: "False", reason: "DeadlineExceeded" });
    expect(condition(status, "Succeeded")?.message).toContain("spec.timeoutSeconds (60 s)");
  }, 150_000);
});
