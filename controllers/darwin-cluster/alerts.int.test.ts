// @testbed cluster
/**
 * Alerts against the cluster tier (KubeRay, KWOK): a cluster that runs past its runtime limit and costs
 * more per day than its limit gets both alert conditions, one Warning Event each and one POST each on a
 * Slack-compatible webhook, here a local HTTP receiver whose URL the operator reads from a Secret. Further
 * reconciles (a spec change) post nothing more: an alert fires once per breach.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { eventsAbout, getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { alertsConfig, COST_ALERT, RUNTIME_ALERT } from "./alerts.ts";
import { runtimeObject } from "./fixtures.ts";
import { createDarwinClusterController, DARWIN_CLUSTERS } from "./reconciler.ts";
import type { DarwinClusterStatus } from "./status.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME_NAME = `it-alerts-${RUN}`;
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };

/** What the receiver got: one entry per POST. */
const received: { path: string; body: { text?: unknown } }[] = [];
let receiverURL: string;

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A Slack-like incoming webhook on the loopback: answers "ok" to a JSON POST, as Slack does. */
async function startReceiver(): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    if (request.method !== "POST" || request.headers["content-type"] !== "application/json") {
      response.writeHead(400).end("invalid_payload");
      return;
    }
    received.push({ path: request.url ?? "", body: JSON.parse(await body(request)) });
    response.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, url: `http://127.0.0.1:${address.port}/services/T000/B000/XXXX` };
}

const tb = useTestbed({ namespace: "compute-alerts", cleanup: [DARWIN_CLUSTERS] });

beforeAll(async () => {
  const receiver = await startReceiver();
  receiverURL = receiver.url;
  tb.defer(() => new Promise((resolve) => receiver.server.close(resolve)));
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME_NAME, "--ignore-not-found", "--wait=false"]));
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME_NAME, `Ray2.37.0-Alerts-${RUN}`));
  await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "alerts-webhook" },
    stringData: { url: receiverURL },
  });
  const alerts = alertsConfig.parse({
    maxRuntimeHours: 1,
    maxCostPerDay: 0,
    webhookSecret: { namespace: tb.namespace, name: "alerts-webhook" },
  });
  await tb.startOperator([createDarwinClusterController({ alerts })]);
});

async function status(name: string): Promise<DarwinClusterStatus & { observedGeneration?: number }> {
  const object = await getObject(tb.client, DARWIN_CLUSTERS, tb.namespace, name);
  return (object?.status ?? {}) as DarwinClusterStatus;
}

describe("cluster alerts", () => {
  it("fires a runtime and a cost alert once each: conditions, Warning Events, one webhook POST each", async () => {
    const name = "expensive";
    const cluster = (tag: string) => ({
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: DARWIN_CLUSTERS.kind,
      metadata: { name },
      spec: {
        runtime: RUNTIME_NAME,
        owner: "ana@example.com",
        tags: [tag],
        inactiveTimeMinutes: 0,
        head: { cores: 2, memory: "4Gi" },
        jupyter: { enabled: false },
        // 0.002 h is 7.2 s after Ready; on-demand 2 cores and 4 GiB cost 0.10 per hour, 2.40 per day.
        alerts: { maxRuntimeHours: 0.002, maxCostPerDay: 1 },
      },
    });
    await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], cluster("first"));
    await waitFor(
      "both alerts posted",
      async () => {
        const conditions = (await status(name)).conditions;
        return [RUNTIME_ALERT, COST_ALERT].every(
          (type) => findCondition(conditions, type)?.reason === "Notified",
        );
      },
      SLOW,
    );
    const fired = await status(name);
    expect(findCondition(fired.conditions, RUNTIME_ALERT)).toMatchObject({ status: "True" });
    expect(findCondition(fired.conditions, COST_ALERT)?.message).toContain(
      "costs 2.40 per day (0.10 per hour), more than its limit of 1 per day",
    );
    expect(received).toHaveLength(2);
    const texts = received.map((r) => String(r.body.text));
    expect(received.every((r) => r.path === "/services/T000/B000/XXXX")).toBe(true);
    expect(texts.find((t) => t.includes("running too long"))).toContain(
      `DarwinCluster ${tb.namespace}/${name}`,
    );
    expect(texts.find((t) => t.includes("over its cost limit"))).toContain("owner: ana@example.com");

    // Another reconcile during the same breach (a spec change: a new generation) posts nothing more.
    await kubectlOk(["apply", "-n", tb.namespace, "-f", "-"], cluster("second"));
    const generation = Number(
      await kubectlOk([
        "get",
        "darwincluster",
        name,
        "-n",
        tb.namespace,
        "-o",
        "jsonpath={.metadata.generation}",
      ]),
    );
    await waitFor(
      "the spec change reconciled",
      async () => (await status(name)).observedGeneration === generation,
      SLOW,
    );
    expect(received).toHaveLength(2);
    const events = await eventsAbout(tb.client, tb.namespace, name);
    const warnings = events.filter((e) => e.reason === RUNTIME_ALERT || e.reason === COST_ALERT);
    expect(warnings.map((e) => [e.reason, e.type]).sort()).toEqual([
      [COST_ALERT, "Warning"],
      [RUNTIME_ALERT, "Warning"],
    ]);
    expect(warnings.every((e) => (e.series?.count ?? 1) === 1)).toBe(true);
  });
});
