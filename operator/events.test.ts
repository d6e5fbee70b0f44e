import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../test-e2e/support/wait.ts";
import { EventRecorder, microTime } from "./events.ts";
import type { KubeClient } from "./kube-client.ts";
import { silentLogger } from "./logger.ts";
import type { KubeObject } from "./resource.ts";
import { ScriptedApiserver } from "./testing/scripted-apiserver.ts";

const regarding: KubeObject = {
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "ChronosTransformer",
  metadata: { name: "rule", namespace: "team-a", uid: "u-1", resourceVersion: "7" },
};

let server: ScriptedApiserver;
let client: KubeClient;

afterEach(async () => {
  client.close();
  await server.stop();
});

describe("EventRecorder", () => {
  it("writes an events.k8s.io/v1 Event, and folds repeats into one series written at most every flush interval", async () => {
    server = new ScriptedApiserver();
    client = await server.start();
    const recorder = new EventRecorder(client, {
      controller: "darwin-operator",
      instance: "pod-1",
      log: silentLogger(),
      seriesFlushMs: 200,
    });
    const failed = {
      type: "Warning" as const,
      reason: "ReconcileFailed",
      action: "Reconcile",
      note: "store unavailable",
    };
    recorder.record(regarding, failed);
    recorder.record(regarding, failed);
    recorder.record(regarding, failed);
    recorder.record(regarding, { ...failed, note: "something else" });
    await waitFor("series update", () => server.requests.some((r) => r.method === "PATCH"));
    await recorder.flush();

    const creates = server.requests.filter((r) => r.method === "POST");
    expect(creates).toHaveLength(2);
    expect(creates[0]?.path).toBe("/apis/events.k8s.io/v1/namespaces/team-a/events");
    expect(creates[0]?.body).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      type: "Warning",
      reason: "ReconcileFailed",
      action: "Reconcile",
      note: "store unavailable",
      reportingController: "darwin-operator",
      reportingInstance: "pod-1",
      regarding: { kind: "ChronosTransformer", name: "rule", namespace: "team-a", uid: "u-1" },
    });
    const name = (creates[0]?.body as { metadata: { name: string } } | undefined)?.metadata.name;
    const patches = server.requests.filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(1);
    expect(patches[0]?.path).toBe(`/apis/events.k8s.io/v1/namespaces/team-a/events/${name}`);
    expect(patches[0]?.body).toMatchObject({ series: { count: 3 } });
  });

  it("formats MicroTime with microseconds", () => {
    expect(microTime(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
  });
});
