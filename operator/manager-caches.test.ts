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
import { type KubeObject, type ResourceType, resourcePath } from "./resource.ts";
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

describe("Manager cache transforms", () => {
  const owner = { apiVersion: WIDGETS.apiVersion, kind: WIDGETS.kind, name: "w", uid: "uid-w" };
  const widget = {
    apiVersion: WIDGETS.apiVersion,
    kind: WIDGETS.kind,
    metadata: {
      name: "w",
      namespace: "ns",
      uid: "uid-w",
      resourceVersion: "3",
      managedFields: [
        { manager: "kubectl", operation: "Apply", apiVersion: "example.com/v1", fieldsV1: { "f:spec": {} } },
        {
          manager: "darwin-operator",
          operation: "Update",
          subresource: "status",
          apiVersion: "example.com/v1",
          fieldsV1: { "f:status": {} },
        },
      ],
    },
    spec: { size: 1 },
    status: { phase: "Ready", history: ["a long list no controller reads"] },
  };
  // The child as the apiserver has it after darwin-operator applied it and another writer added a label.
  const child = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "w-child",
      namespace: "ns",
      resourceVersion: "3",
      labels: { "app.kubernetes.io/managed-by": "darwin-operator", other: "x" },
      ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
      managedFields: [
        {
          manager: "darwin-operator",
          operation: "Apply",
          apiVersion: "v1",
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:data": { "f:k": {} },
            "f:metadata": {
              "f:labels": { "f:app.kubernetes.io/managed-by": {} },
              "f:ownerReferences": { 'k:{"uid":"uid-w"}': {} },
            },
          },
        },
        { manager: "someone", operation: "Update", apiVersion: "v1", fieldsV1: { "f:metadata": {} } },
      ],
    },
    data: { k: "v" },
  };
  const dropHistory = (object: KubeObject): KubeObject => {
    const status = object.status as { history?: unknown } | undefined;
    if (!status) return object;
    const { history: _h, ...rest } = status;
    return { ...object, status: rest };
  };

  function newManager(): Manager {
    return new Manager({
      client,
      config: parseConfig({ namespaces: ["ns"], leaderElection: { enabled: false } }),
      log: silentLogger(),
      metrics: new OperatorMetrics({ processMetrics: false }),
      identity: "test",
      finalizerPrefix: "example.com",
    });
  }

  it("keep no managedFields but the operator's own apply, and what the application's transform leaves; an unchanged child is still not written", async () => {
    server = new ScriptedApiserver();
    server.listsOf.set(resourcePath(WIDGETS, "ns"), [{ resourceVersion: "3", items: [widget] }]);
    server.listsOf.set(resourcePath(CONFIG_MAPS, "ns"), [{ resourceVersion: "3", items: [child] }]);
    client = await server.start();
    manager = newManager();
    let written: boolean | undefined;
    manager.register({
      name: "widgets",
      for: WIDGETS,
      owns: [CONFIG_MAPS],
      cacheTransforms: [{ type: WIDGETS, transform: dropHistory }],
      async reconcile(ctx) {
        const result = await ctx.apply(CONFIG_MAPS, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "w-child" },
          data: { k: "v" },
        });
        written = result.written;
        return undefined;
      },
    });
    await manager.start();
    await waitFor("the widget reconciled", () => written !== undefined);
    // The child carries what the operator would apply: its own apply entry, kept in the cache, says so.
    expect(written).toBe(false);

    const cachedWidget = manager.informer(WIDGETS, "ns")?.get("ns", "w");
    expect(cachedWidget?.metadata).not.toHaveProperty("managedFields");
    expect(cachedWidget?.status).toEqual({ phase: "Ready" });
    expect(cachedWidget?.spec).toEqual({ size: 1 });
    const cachedChild = manager.informer(CONFIG_MAPS, "ns")?.get("ns", "w-child");
    expect(cachedChild?.metadata.managedFields?.map((e) => `${e.manager} ${e.operation}`)).toEqual([
      "darwin-operator Apply",
    ]);
    expect(cachedChild?.metadata.labels).toEqual(child.metadata.labels);
    expect(server.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("refuse two different transforms for one kind, and a transform for a kind the controller does not read", async () => {
    server = new ScriptedApiserver();
    client = await server.start();
    manager = newManager();
    const definition = (name: string, transform = dropHistory) => ({
      name,
      for: WIDGETS,
      cacheTransforms: [{ type: WIDGETS, transform }],
      reconcile: async () => undefined,
    });
    manager.register(definition("a"));
    manager.register(definition("b"));
    expect(() => manager?.register(definition("c", (o) => o))).toThrow(
      "controllers a and c give different cache transforms for widgets.example.com: one kind has one cache",
    );
    expect(() =>
      manager?.register({ ...definition("d"), cacheTransforms: [{ type: SECRETS, transform: dropHistory }] }),
    ).toThrow(
      "controller d gives a cache transform for secrets.core, which it neither reconciles, owns nor watches",
    );
  });
});
