import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../test-e2e/support/wait.ts";
import { Informer, type InformerEvent } from "./informer.ts";
import type { KubeClient } from "./kube-client.ts";
import { silentLogger } from "./logger.ts";
import type { ResourceType } from "./resource.ts";
import { ScriptedApiserver, scriptedObject } from "./testing/scripted-apiserver.ts";

const CONFIG_MAPS: ResourceType = {
  apiVersion: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};

/**
 * A BOOKMARK as kube-apiserver sends it: the kind and only metadata.resourceVersion (no name). Recorded
 * from the testbed's kube-apiserver v1.36.3 (ConfigMaps of one namespace, allowWatchBookmarks=true), one a
 * minute and one just before the watch timeout:
 *   {"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"312"}}}
 */
function bookmark(resourceVersion: string) {
  return { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion } };
}

let server: ScriptedApiserver;
let informer: Informer | undefined;
let client: KubeClient | undefined;
let restarts: string[] = [];

async function startInformer(options: { silenceTimeoutMs?: number; resyncPeriodMs?: number } = {}) {
  client = await server.start();
  informer = new Informer(client, CONFIG_MAPS, {
    namespace: "ns",
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    silenceTimeoutMs: options.silenceTimeoutMs ?? 60_000,
    watchTimeoutSeconds: 300,
    backoff: { baseMs: 50, maxMs: 1000 },
    log: silentLogger(),
    observer: { listed: () => undefined, watchRestarted: (_resource, reason) => restarts.push(reason) },
  });
  const events: string[] = [];
  restarts = [];
  informer.on((e: InformerEvent) =>
    events.push(
      `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}${e.writer ? ` by ${e.writer}` : ""}`,
    ),
  );
  informer.start();
  await informer.waitForSync();
  return events;
}

afterEach(async () => {
  await informer?.stop();
  client?.close();
  await server.stop();
  informer = undefined;
});

describe("Informer against a scripted apiserver", () => {
  it("relists after 410 Gone and announces what changed, appeared and vanished meanwhile", async () => {
    server = new ScriptedApiserver();
    server.lists = [
      { resourceVersion: "10", items: [scriptedObject("a", "1"), scriptedObject("b", "2")] },
      { resourceVersion: "20", items: [scriptedObject("a", "15"), scriptedObject("c", "16")] },
    ];
    server.watches = [
      {
        kind: "events",
        events: [
          {
            type: "ERROR",
            object: {
              kind: "Status",
              code: 410,
              reason: "Expired",
              message: "too old resource version: 10 (18)",
            },
          },
        ],
        after: "hang",
      },
    ];
    const events = await startInformer();
    await waitFor("relist", () => informer?.stats.lists === 2 && server.watchRequests().length === 2);
    expect(events).toEqual(["added a@1", "added b@2", "updated a@15", "added c@16", "deleted b@2"]);
    expect(informer?.stats.gone).toBe(1);
    expect(server.watchRequests().map((r) => r.resourceVersion)).toEqual(["10", "20"]);
    expect(
      informer
        ?.list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["a", "c"]);
  });

  it("restarts a watch that went silent, resuming from the last bookmark", async () => {
    server = new ScriptedApiserver();
    server.lists = [{ resourceVersion: "10", items: [] }];
    server.watches = [
      {
        kind: "events",
        events: [{ type: "BOOKMARK", object: bookmark("42") }],
        after: "hang",
      },
      { kind: "silent" },
      { kind: "events", events: [{ type: "ADDED", object: scriptedObject("late", "43") }], after: "hang" },
    ];
    const events = await startInformer({ silenceTimeoutMs: 300 });
    await waitFor("third watch", () => server.watchRequests().length >= 3, { timeoutMs: 10_000 });
    await waitFor("event after the stall", () => events.includes("added late@43"));
    const [first, second, third] = server.watchRequests();
    expect(first?.resourceVersion).toBe("10");
    expect(second?.resourceVersion).toBe("42");
    expect(third?.resourceVersion).toBe("42");
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(290);
    expect(informer?.stats.lists).toBe(1);
  });

  it("retries failed watches with growing delays, without relisting", async () => {
    server = new ScriptedApiserver();
    server.lists = [{ resourceVersion: "10", items: [scriptedObject("a", "1")] }];
    server.watches = [
      { kind: "status", code: 500 },
      { kind: "status", code: 503 },
      { kind: "status", code: 500 },
      { kind: "events", events: [{ type: "MODIFIED", object: scriptedObject("a", "11") }], after: "hang" },
    ];
    const events = await startInformer();
    await waitFor("recovered", () => events.includes("updated a@11"), { timeoutMs: 10_000 });
    const times = server.watchRequests().map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    expect(server.watchRequests().every((r) => r.resourceVersion === "10")).toBe(true);
    expect(informer?.stats.lists).toBe(1);
  });

  it("reconnects at once when the server ends a watch, and resyncs the cache periodically", async () => {
    server = new ScriptedApiserver();
    server.lists = [{ resourceVersion: "10", items: [scriptedObject("a", "1")] }];
    server.watches = [
      {
        kind: "events",
        events: [
          { type: "DELETED", object: scriptedObject("a", "12") },
          { type: "ADDED", object: scriptedObject("b", "13") },
        ],
        after: "close",
      },
    ];
    const events = await startInformer({ resyncPeriodMs: 200 });
    await waitFor("second watch", () => server.watchRequests().length >= 2);
    expect(server.watchRequests()[1]?.resourceVersion).toBe("13");
    await waitFor("resync", () => events.includes("resync b@13"));
    expect(events.slice(0, 3)).toEqual(["added a@1", "deleted a@12", "added b@13"]);
  });

  it("keeps an object it wrote (assume), announces it once as the writer's, and not the watch event of that write", async () => {
    server = new ScriptedApiserver();
    server.lists = [{ resourceVersion: "10", items: [scriptedObject("a", "5")] }];
    server.watches = [{ kind: "silent" }];
    const events = await startInformer();
    informer?.assume(scriptedObject("a", "11", { ours: "yes" }), "mirror");
    informer?.assume(scriptedObject("a", "9", { stale: "yes" }), "mirror");
    informer?.assume(scriptedObject("b", "12", { ours: "too" }), "other");
    expect(informer?.get("ns", "a")?.data).toEqual({ ours: "yes" });
    expect(events).toEqual(["added a@5", "updated a@11 by mirror", "added b@12 by other"]);
  });

  it("takes a bookmark's resourceVersion without restarting the watch", async () => {
    server = new ScriptedApiserver();
    server.lists = [{ resourceVersion: "10", items: [scriptedObject("a", "1")] }];
    server.watches = [
      { kind: "events", events: [{ type: "BOOKMARK", object: bookmark("42") }], after: "close" },
      { kind: "events", events: [{ type: "MODIFIED", object: scriptedObject("a", "43") }], after: "hang" },
    ];
    const events = await startInformer();
    await waitFor("event after the bookmark", () => events.includes("updated a@43"));
    // The server ended the first watch normally; the next one resumes from the bookmark.
    expect(server.watchRequests().map((r) => r.resourceVersion)).toEqual(["10", "42"]);
    expect(informer?.stats.restarts).toBe(1);
    expect(restarts).toEqual(["closed"]);
    expect(informer?.lastSyncResourceVersion).toBe("43");
  });

  it("does not bring back an object deleted before the response of our write to it arrived", async () => {
    server = new ScriptedApiserver();
    server.lists = [{ resourceVersion: "10", items: [scriptedObject("a", "5", {}, "uid-a")] }];
    server.watches = [
      {
        kind: "events",
        events: [
          { type: "MODIFIED", object: scriptedObject("a", "11", { ours: "yes" }, "uid-a") },
          { type: "DELETED", object: scriptedObject("a", "12", { ours: "yes" }, "uid-a") },
        ],
        after: "hang",
      },
    ];
    const events = await startInformer();
    await waitFor("deletion", () => events.includes("deleted a@12"));
    // The response of the write that made version 11 arrives after the watch reported the deletion.
    informer?.assume(scriptedObject("a", "11", { ours: "yes" }, "uid-a"), "mirror");
    expect(informer?.get("ns", "a")).toBeUndefined();
    // A new object of the same name (a new uid, a later version) is taken.
    informer?.assume(scriptedObject("a", "20", { again: "yes" }, "uid-a2"), "mirror");
    expect(informer?.get("ns", "a")?.data).toEqual({ again: "yes" });
  });

  it("does not bring back an object a relist found gone", async () => {
    server = new ScriptedApiserver();
    server.lists = [
      { resourceVersion: "10", items: [scriptedObject("a", "5", {}, "uid-a")] },
      { resourceVersion: "30", items: [] },
    ];
    server.watches = [
      {
        kind: "events",
        events: [{ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "old" } }],
        after: "hang",
      },
    ];
    const events = await startInformer();
    await waitFor("relist", () => events.includes("deleted a@5"));
    informer?.assume(scriptedObject("a", "12", {}, "uid-a"), "mirror");
    expect(informer?.get("ns", "a")).toBeUndefined();
  });
});
