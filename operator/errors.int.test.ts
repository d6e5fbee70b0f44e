// @testbed control
/**
 * Against the testbed apiserver: a failing reconcile is retried with exponentially growing delays, visible
 * in /metrics; a terminal error is not retried and is reported as a condition and a Warning Event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { closeGracefully, listenService } from "./http/lifecycle.ts";
import type { Service } from "./http/service.ts";
import { buildOperatorServer } from "./http-server.ts";
import type { KubeClient } from "./kube-client.ts";
import { createMirrorController, FAIL, isMirrored, TERMINAL } from "./testing/mirror-controller.ts";
import {
  CHRONOS,
  chronosTransformer,
  createObject,
  eventsAbout,
  getObject,
  idle,
  mergePatch,
  metricValue,
  readyCondition,
  type TestManager,
  testLogger,
  waitFor,
} from "./testing/testbed.ts";

const BASE_BACKOFF_MS = 20;

let client: KubeClient;
let namespace: string;
let operator: TestManager;
let server: Service;
let metricsUrl: string;
/** When each object's reconcile started, by name. */
const attempts = new Map<string, number[]>();

async function scrape(): Promise<string> {
  const res = await fetch(metricsUrl);
  return res.text();
}

const tb = useTestbed({ namespace: "op-errors", cleanup: [CHRONOS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  const controller = createMirrorController({
    onReconcile: (ctx) => {
      const name = ctx.object.metadata.name;
      attempts.set(name, [...(attempts.get(name) ?? []), performance.now()]);
    },
  });
  operator = await tb.startOperator([controller], { queue: { baseBackoffMs: BASE_BACKOFF_MS } });
  server = await buildOperatorServer({
    registry: operator.metrics.registry,
    logger: testLogger(),
    healthz: () => ({ ok: true, detail: "" }),
    readiness: [{ name: "informers", check: () => ({ ok: operator.manager.synced, detail: "not synced" }) }],
  });
  metricsUrl = `http://127.0.0.1:${await listenService(server, 0, "127.0.0.1")}/metrics`;
});

afterAll(async () => {
  if (server) await closeGracefully(server);
});

describe("reconcile errors", () => {
  it("retries a failing reconcile with growing delays, visible in /metrics, until it succeeds", async () => {
    const name = "flaky";
    // Converge first, so that the only thing waking the reconcile afterwards is the backoff.
    await createObject(client, CHRONOS, chronosTransformer(namespace, name, "s"));
    await waitFor("flaky reconciled", async () => {
      const object = await getObject(client, CHRONOS, namespace, name);
      return object && isMirrored(object);
    });
    await waitFor("queue idle", () => idle(operator.manager));
    const retriesBefore = metricValue(await scrape(), "workqueue_retries_total", { controller: "mirror" });
    attempts.delete(name);
    await mergePatch(client, CHRONOS, namespace, name, {
      metadata: { annotations: { [FAIL]: "store unavailable" } },
    });

    // Scrape /metrics as Prometheus would, noting when the retry counter moved.
    const seen: Array<{ at: number; retries: number }> = [];
    await waitFor(
      "7 retries in /metrics",
      async () => {
        const retries =
          metricValue(await scrape(), "workqueue_retries_total", { controller: "mirror" }) - retriesBefore;
        if (retries !== seen.at(-1)?.retries) seen.push({ at: performance.now(), retries });
        return retries >= 7;
      },
      { intervalMs: 10, timeoutMs: 60_000 },
    );
    const text = await scrape();
    expect(
      metricValue(text, "controller_runtime_reconcile_errors_total", { controller: "mirror" }),
    ).toBeGreaterThanOrEqual(7);
    expect(
      metricValue(text, "controller_runtime_reconcile_total", { controller: "mirror", result: "error" }),
    ).toBeGreaterThanOrEqual(7);

    // The delays double: each gap between attempts is at least base * 2^n (timers never fire early).
    const times = attempts.get(name) ?? [];
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    expect(gaps.length).toBeGreaterThanOrEqual(6);
    gaps.slice(0, 7).forEach((gap, n) => {
      expect(gap).toBeGreaterThanOrEqual(BASE_BACKOFF_MS * 2 ** n - 2);
    });
    // The same growth seen from outside: the counter's later steps are further apart than its first.
    const steps = seen.slice(1).map((s, i) => s.at - (seen[i]?.at ?? s.at));
    expect(steps.at(-1)).toBeGreaterThan(BASE_BACKOFF_MS * 2 ** 5 - 20);
    expect(steps.at(-1) ?? 0).toBeGreaterThan((steps[0] ?? 0) * 2);

    // The failure is reported as a (de-duplicated) Warning Event.
    const warnings = await waitFor("ReconcileFailed event", async () => {
      const events = await eventsAbout(client, namespace, name);
      return events.length > 0 ? events : undefined;
    });
    expect(warnings.length).toBe(1);

    // Fixing the cause (removing the failure) reconciles at once, without waiting out the backoff.
    await mergePatch(client, CHRONOS, namespace, name, { metadata: { annotations: { [FAIL]: null } } });
    await waitFor("flaky reconciled", async () => {
      const object = await getObject(client, CHRONOS, namespace, name);
      return object && isMirrored(object);
    });
  });

  it("does not retry a terminal error, and reports it as a condition and a Warning Event", async () => {
    const name = "invalid";
    const message = "spec.transform does not produce entities";
    const retriesBefore = metricValue(await scrape(), "workqueue_retries_total", { controller: "mirror" });
    await createObject(client, CHRONOS, chronosTransformer(namespace, name, "s", { [TERMINAL]: message }));
    const ready = await waitFor("Ready=False", async () => {
      const condition = await readyCondition(client, CHRONOS, namespace, name);
      return condition?.status === "False" ? condition : undefined;
    });
    expect(ready).toMatchObject({ reason: "InvalidRule", message, observedGeneration: 1 });
    const events = await waitFor("Warning event", async () => {
      const found = (await eventsAbout(client, namespace, name)).filter(
        (e) => e.type === "Warning" && e.reason === "InvalidRule",
      );
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]).toMatchObject({
      note: message,
      action: "Reconcile",
      reportingController: "darwin-operator",
    });
    const terminal = metricValue(await scrape(), "controller_runtime_terminal_reconcile_errors_total", {
      controller: "mirror",
    });
    expect(terminal).toBeGreaterThanOrEqual(1);

    // Not retried: with a 20 ms base backoff a retry would have come many times within a second; the
    // absence of one can only be checked by waiting, so this is a bounded wait, not a synchronisation.
    // (The watch event of our own finalizer write may wake one more reconcile; that is not a retry.)
    const count = attempts.get(name)?.length ?? 0;
    await new Promise((r) => setTimeout(r, 1000));
    expect(attempts.get(name)?.length ?? 0).toBe(count);
    expect(operator.manager.controllers[0]?.queue.retries(`${namespace}/${name}`)).toBe(0);
    expect(metricValue(await scrape(), "workqueue_retries_total", { controller: "mirror" })).toBe(
      retriesBefore,
    );

    // The user fixes the object: the change reconciles it and Ready turns True.
    await mergePatch(client, CHRONOS, namespace, name, { metadata: { annotations: { [TERMINAL]: null } } });
    const fixed = await waitFor("invalid fixed", async () => {
      const object = await getObject(client, CHRONOS, namespace, name);
      return object && isMirrored(object) ? object : undefined;
    });
    expect(fixed.metadata.generation).toBe(1);
  });
});
