import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../test-e2e/support/wait.ts";
import { parseConfig } from "./config.ts";
import type { ControllerDefinition } from "./controller.ts";
import { buildOperatorServer, operatorReadiness } from "./http-server.ts";
import type { KubeClient } from "./kube-client.ts";
import { silentLogger } from "./logger.ts";
import { Manager } from "./manager.ts";
import { OperatorMetrics } from "./metrics.ts";
import { type ResourceType, resourcePath } from "./resource.ts";
import { ScriptedApiserver, scriptedObject } from "./testing/scripted-apiserver.ts";

const CONFIG_MAPS: ResourceType = {
  apiVersion: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};
/** A custom resource whose CRD is not installed. */
const WIDGETS: ResourceType = {
  apiVersion: "example.com/v1",
  kind: "Widget",
  plural: "widgets",
  namespaced: true,
};

let server: ScriptedApiserver;
let client: KubeClient;
let manager: Manager | undefined;

afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  client.close();
  await server.stop();
});

/** A controller that records the keys it reconciled. */
function recorder(name: string, owns: ResourceType[], reconciled: string[]): ControllerDefinition {
  return {
    name,
    for: CONFIG_MAPS,
    owns,
    async reconcile(ctx) {
      reconciled.push(`${name} ${ctx.object.metadata.name}`);
      return undefined;
    },
  };
}

const SECRETS: ResourceType = { apiVersion: "v1", kind: "Secret", plural: "secrets", namespaced: true };
const MANAGED = "app.kubernetes.io/managed-by=darwin-operator";

describe("Manager caches", () => {
  it("cache only the owned kinds' objects labelled managed-by darwin-operator, and every applied child carries that label", async () => {
    server = new ScriptedApiserver();
    const widget = {
      apiVersion: WIDGETS.apiVersion,
      kind: WIDGETS.kind,
      metadata: { name: "w", namespace: "ns", uid: "uid-w", resourceVersion: "3" },
    };
    server.listsOf.set(resourcePath(WIDGETS, "ns"), [{ resourceVersion: "3", items: [widget] }]);
    server.listsOf.set(resourcePath(CONFIG_MAPS, "ns"), [{ resourceVersion: "3", items: [] }]);
    server.listsOf.set(resourcePath(SECRETS, "ns"), [{ resourceVersion: "3", items: [] }]);
    client = await server.start();
    manager = new Manager({
      client,
      config: parseConfig({ namespaces: ["ns"], leaderElection: { enabled: false } }),
      log: silentLogger(),
      metrics: new OperatorMetrics({ processMetrics: false }),
      identity: "test",
      finalizerPrefix: "example.com",
    });
    let applied = false;
    manager.register({
      name: "widgets",
      for: WIDGETS,
      owns: [CONFIG_MAPS],
      watches: [{ type: SECRETS, map: () => [] }],
      async reconcile(ctx) {
        await ctx.apply(CONFIG_MAPS, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "w-child", labels: { app: "widget" } },
          data: { k: "v" },
        });
        applied = true;
        return undefined;
      },
    });
    await manager.start();
    await waitFor("the child applied", () => applied);

    const selectors = (path: string) =>
      server.requests.filter((r) => r.method === "GET" && r.path === path).map((r) => r.labelSelector);
    expect(new Set(selectors(resourcePath(CONFIG_MAPS, "ns")))).toEqual(new Set([MANAGED]));
    expect(new Set(selectors(resourcePath(WIDGETS, "ns")))).toEqual(new Set([null]));
    expect(new Set(selectors(resourcePath(SECRETS, "ns")))).toEqual(new Set([null]));
    const patch = server.requests.find((r) => r.method === "PATCH");
    expect(patch?.body).toMatchObject({
      metadata: { labels: { app: "widget", "app.kubernetes.io/managed-by": "darwin-operator" } },
    });
    // The applied child is in the owned kind's cache.
    expect(manager.informer(CONFIG_MAPS, "ns")?.get("ns", "w-child")).toBeDefined();
  });
});

describe("a watch with a label selector", () => {
  it("caches only what the selector matches, and ctx.list reads that cache", async () => {
    server = new ScriptedApiserver();
    const head = {
      ...scriptedObject("w-head", "4"),
      kind: "Secret",
      metadata: { name: "w-head", namespace: "ns", resourceVersion: "4", labels: { role: "head", of: "w" } },
    };
    const widget = {
      apiVersion: WIDGETS.apiVersion,
      kind: WIDGETS.kind,
      metadata: { name: "w", namespace: "ns", uid: "uid-w", resourceVersion: "3" },
    };
    server.listsOf.set(resourcePath(WIDGETS, "ns"), [{ resourceVersion: "5", items: [widget] }]);
    server.listsOf.set(resourcePath(SECRETS, "ns"), [{ resourceVersion: "5", items: [head] }]);
    client = await server.start();
    manager = new Manager({
      client,
      config: parseConfig({ namespaces: ["ns"], leaderElection: { enabled: false } }),
      log: silentLogger(),
      metrics: new OperatorMetrics({ processMetrics: false }),
      identity: "test",
      finalizerPrefix: "example.com",
    });
    const seen: string[][] = [];
    manager.register({
      name: "widgets",
      for: WIDGETS,
      watches: [
        {
          type: SECRETS,
          labelSelector: "role=head",
          map: (secret) => [`ns/${secret.metadata.labels?.of}`],
        },
      ],
      async reconcile(ctx) {
        seen.push(ctx.list(SECRETS, "ns").map((s) => s.metadata.name));
        return undefined;
      },
    });
    await manager.start();
    await waitFor("reconciled with the cached head", () => seen.length > 0);
    expect(seen[0]).toEqual(["w-head"]);
    const selectors = server.requests
      .filter((r) => r.method === "GET" && r.path === resourcePath(SECRETS, "ns"))
      .map((r) => r.labelSelector);
    expect(new Set(selectors)).toEqual(new Set(["role=head"]));
  });
});

describe("ctx.applyFromLive", () => {
  it("applies over the version it rendered from, and on 409 reads the child again and renders anew", async () => {
    server = new ScriptedApiserver();
    const widget = {
      apiVersion: WIDGETS.apiVersion,
      kind: WIDGETS.kind,
      metadata: { name: "w", namespace: "ns", uid: "uid-w", resourceVersion: "3" },
    };
    const child = (resourceVersion: string, replicas: string) => ({
      ...scriptedObject("w-child", resourceVersion, { replicas }),
      metadata: { name: "w-child", namespace: "ns", resourceVersion, labels: { app: "widget" } },
    });
    server.listsOf.set(resourcePath(WIDGETS, "ns"), [{ resourceVersion: "5", items: [widget] }]);
    server.listsOf.set(resourcePath(CONFIG_MAPS, "ns"), [{ resourceVersion: "5", items: [child("5", "1")] }]);
    // The cached copy says 1; meanwhile another writer made it 2.
    const childPath = resourcePath(CONFIG_MAPS, "ns", "w-child");
    server.objects.set(childPath, child("7", "2"));
    server.writeCodes = [409];
    client = await server.start();
    manager = new Manager({
      client,
      config: parseConfig({ namespaces: ["ns"], leaderElection: { enabled: false } }),
      log: silentLogger(),
      metrics: new OperatorMetrics({ processMetrics: false }),
      identity: "test",
      finalizerPrefix: "example.com",
    });
    let applied = false;
    manager.register({
      name: "widgets",
      for: WIDGETS,
      owns: [CONFIG_MAPS],
      async reconcile(ctx) {
        await ctx.applyFromLive(CONFIG_MAPS, "w-child", (live) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "w-child", labels: { app: "widget", generation: "2" } },
          data: { replicas: String((live?.data as { replicas?: string } | undefined)?.replicas) },
        }));
        applied = true;
        return undefined;
      },
    });
    await manager.start();
    await waitFor("the child applied", () => applied);

    const writes = server.requests.filter((r) => r.method === "PATCH");
    expect(writes.map((w) => w.body)).toMatchObject([
      { metadata: { resourceVersion: "5" }, data: { replicas: "1" } },
      { metadata: { resourceVersion: "7" }, data: { replicas: "2" } },
    ]);
    const reads = server.requests.filter((r) => r.method === "GET" && r.path === childPath);
    expect(reads).toHaveLength(1);
  });
});

describe("Manager with a cache that does not sync", () => {
  it("starts the controllers that do not need it, says which cache and why (log, /readyz), and starts the rest once it syncs", async () => {
    server = new ScriptedApiserver();
    const logged: Array<Record<string, unknown>> = [];
    const log = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line)) });
    server.lists = [{ resourceVersion: "10", items: [scriptedObject("a", "1")] }];
    const widgets = resourcePath(WIDGETS, "ns");
    server.missing.add(widgets);
    client = await server.start();
    manager = new Manager({
      client,
      config: parseConfig({
        namespaces: ["ns"],
        cacheSyncTimeoutSeconds: 0.5,
        leaderElection: { enabled: false },
        watch: { maxBackoffSeconds: 0.2 },
      }),
      log,
      metrics: new OperatorMetrics({ processMetrics: false }),
      identity: "test",
      finalizerPrefix: "example.com",
    });
    const reconciled: string[] = [];
    manager.register(recorder("plain", [], reconciled));
    manager.register(recorder("widgets", [WIDGETS], reconciled));

    const started = manager.start();
    const outcome = await Promise.race([
      started.then(() => "started"),
      new Promise((resolve) => setTimeout(() => resolve("still waiting"), 3000)),
    ]);
    expect(outcome).toBe("started");
    await waitFor("the controller without widgets reconciled", () => reconciled.includes("plain a"));
    expect(reconciled).not.toContain("widgets a");
    const unsynced =
      "widgets.example.com@ns?app.kubernetes.io/managed-by=darwin-operator: GET /apis/example.com/v1/namespaces/ns/widgets: 404 NotFound: the server could not find the requested resource";
    expect(manager.unsyncedInformers()).toEqual([unsynced]);
    // The error log names the kind, why it did not list, and who waits for it.
    expect(logged.filter((line) => String(line.msg).startsWith("Cache did not sync in time"))).toEqual([
      expect.objectContaining({
        level: 50,
        kind: "Widget",
        apiVersion: "example.com/v1",
        informer: "widgets.example.com@ns?app.kubernetes.io/managed-by=darwin-operator",
        reason: expect.stringContaining("404 NotFound"),
        waitingControllers: ["widgets"],
      }),
    ]);
    // /readyz of the operator's HTTP server, on this manager, says the same.
    const http = await buildOperatorServer({
      registry: new OperatorMetrics({ processMetrics: false }).registry,
      logger: silentLogger(),
      healthz: () => ({ ok: true, detail: "" }),
      readiness: operatorReadiness(manager, () => false),
    });
    const notReady = await http.inject({ method: "GET", url: "/readyz" });
    expect([notReady.statusCode, notReady.body]).toEqual([503, `informers: caches not synced: ${unsynced}`]);

    // The CRD is installed: the cache syncs and its controller starts.
    server.missing.delete(widgets);
    server.lists.push({ resourceVersion: "11", items: [] });
    await waitFor("the widgets controller reconciled", () => reconciled.includes("widgets a"), {
      timeoutMs: 5000,
    });
    expect(manager.unsyncedInformers()).toEqual([]);
    const ready = await http.inject({ method: "GET", url: "/readyz" });
    expect([ready.statusCode, ready.body]).toEqual([200, "ok"]);
    await http.close();
  });
});
