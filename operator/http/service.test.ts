import http from "node:http";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { waitFor } from "../../test-e2e/support/wait.ts";
import { silentLogger } from "../logger.ts";
import { type ErrorBody, HttpError } from "./errors.ts";
import { closeOnSignals, listenService } from "./lifecycle.ts";
import { buildService, type Probe, type ServiceOptions } from "./service.ts";

const Order = z.object({
  customer: z.string().min(1).describe("Who orders"),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })).min(1),
});

async function orderService(options: Partial<ServiceOptions> = {}) {
  const app = await buildService({
    name: "orders",
    logger: silentLogger(),
    registry: new Registry(),
    ...options,
  });
  app.post(
    "/orders",
    { schema: { body: Order, response: { 201: z.object({ id: z.string(), items: z.number() }) } } },
    async (request, reply) => reply.code(201).send({ id: "o-1", items: request.body.items.length }),
  );
  app.get(
    "/orders/:id",
    {
      schema: {
        params: z.object({ id: z.string().regex(/^o-\d+$/) }),
        querystring: z.object({ limit: z.coerce.number().int().max(100).default(10) }),
      },
    },
    async (request) => {
      if (request.params.id === "o-404") throw new HttpError(404, "NOT_FOUND", "no order o-404");
      if (request.params.id === "o-500") throw new Error("database password is hunter2");
      return { id: request.params.id, limit: request.query.limit };
    },
  );
  return app;
}

const post = (body: string, contentType = "application/json") => ({
  method: "POST" as const,
  url: "/orders",
  headers: { "content-type": contentType },
  body,
});

describe("buildService: routes with zod schemas", () => {
  it("serves a valid request through the route's schemas", async () => {
    const app = await orderService();
    const res = await app.inject(
      post(JSON.stringify({ customer: "ada", items: [{ sku: "a", quantity: 2 }] })),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: "o-1", items: 1 });
  });

  it("answers a schema violation with 400 naming the field path of each problem", async () => {
    const app = await orderService();
    const res = await app.inject(
      post(
        JSON.stringify({
          customer: "ada",
          items: [
            { sku: "a", quantity: 1 },
            { sku: "b", quantity: -1 },
          ],
        }),
      ),
    );
    expect(res.statusCode).toBe(400);
    const { error } = res.json<ErrorBody>();
    expect(error.code).toBe("INVALID_REQUEST");
    expect(error.field).toBe("body.items[1].quantity");
    expect(error.message).toContain("body.items[1].quantity: ");
  });

  it("lists every offending field at once", async () => {
    const app = await orderService();
    const res = await app.inject(post(JSON.stringify({ items: [] })));
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorBody>().error.issues?.map((i) => i.field)).toEqual(["body.customer", "body.items"]);
  });

  it("names query string and path parameters too", async () => {
    const app = await orderService();
    const query = await app.inject({ method: "GET", url: "/orders/o-1?limit=1000" });
    expect(query.statusCode).toBe(400);
    expect(query.json<ErrorBody>().error.field).toBe("querystring.limit");
    const params = await app.inject({ method: "GET", url: "/orders/x" });
    expect(params.statusCode).toBe(400);
    expect(params.json<ErrorBody>().error.field).toBe("params.id");
    const ok = await app.inject({ method: "GET", url: "/orders/o-1?limit=5" });
    expect(ok.json()).toEqual({ id: "o-1", limit: 5 });
  });
});

describe("buildService: bad input never gets a 5xx", () => {
  it.each([
    ["malformed JSON", post("{not json"), 400, "MALFORMED_JSON"],
    ["an empty JSON body", post(""), 400, "MALFORMED_JSON"],
    ["JSON that is not an object", post("42"), 400, "INVALID_REQUEST"],
    [
      "an unsupported content type",
      post("customer=ada", "application/x-www-form-urlencoded"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    ["a URL that does not decode", { method: "GET" as const, url: "/orders/%E0%A4%A" }, 400, "BAD_REQUEST"],
    ["an unknown route", { method: "GET" as const, url: "/nowhere" }, 404, "NOT_FOUND"],
    ["a wrong method", { method: "DELETE" as const, url: "/orders" }, 404, "NOT_FOUND"],
  ])("%s", async (_what, request, status, code) => {
    const app = await orderService();
    const res = await app.inject(request);
    expect(res.statusCode).toBe(status);
    expect(res.json<ErrorBody>().error.code).toBe(code);
  });

  it("refuses a body above the limit with 413", async () => {
    const app = await orderService({ bodyLimitBytes: 1024 });
    const items = Array.from({ length: 100 }, (_, i) => ({ sku: `sku-${i}`, quantity: 1 }));
    const res = await app.inject(post(JSON.stringify({ customer: "ada", items })));
    expect(res.statusCode).toBe(413);
    expect(res.json<ErrorBody>().error.code).toBe("BODY_TOO_LARGE");
  });

  it("answers a handler's HttpError with its status and code", async () => {
    const app = await orderService();
    const res = await app.inject({ method: "GET", url: "/orders/o-404" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no order o-404" } });
  });

  it("answers a fault of the service with 500 and keeps its details out of the answer", async () => {
    const app = await orderService();
    const res = await app.inject({ method: "GET", url: "/orders/o-500" });
    expect(res.statusCode).toBe(500);
    expect(res.json<ErrorBody>().error.code).toBe("INTERNAL");
    expect(res.body).not.toContain("hunter2");
  });
});

describe("buildService: probes and metrics", () => {
  it("says ok on /healthz and what is wrong when liveness fails", async () => {
    let alive: Probe = { ok: true, detail: "" };
    const app = await orderService({ liveness: () => alive });
    expect((await app.inject({ method: "GET", url: "/healthz" })).body).toBe("ok");
    alive = { ok: false, detail: "shutting down" };
    const res = await app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe("shutting down");
  });

  it("names each readiness check that fails, including one that throws and one that never answers", async () => {
    let cassandra: Probe = { ok: false, detail: "no connection to 127.0.0.1:29042" };
    const app = await orderService({
      readiness: [
        { name: "cassandra", check: () => cassandra },
        { name: "kafka", check: async () => ({ ok: true, detail: "" }) },
        {
          name: "schemas",
          check: () => {
            throw new Error("FeatureGroup cache not synced");
          },
        },
        { name: "kafka-admin", check: () => new Promise<Probe>(() => {}), timeoutMs: 50 },
      ],
    });
    const res = await app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe(
      "cassandra: no connection to 127.0.0.1:29042\nschemas: check failed: FeatureGroup cache not synced\nkafka-admin: no answer within 50 ms",
    );
    cassandra = { ok: true, detail: "" };
    expect((await app.inject({ method: "GET", url: "/readyz" })).body).toContain("schemas:");
  });

  it("is ready without checks", async () => {
    const app = await orderService();
    const res = await app.inject({ method: "GET", url: "/readyz" });
    expect([res.statusCode, res.body]).toEqual([200, "ok"]);
  });

  it("records request durations by route pattern and status on the given registry", async () => {
    const registry = new Registry();
    const app = await orderService({ registry });
    await app.inject({ method: "GET", url: "/orders/o-1" });
    await app.inject({ method: "GET", url: "/orders/o-2" });
    await app.inject({ method: "GET", url: "/orders/x" });
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain(
      'http_request_duration_seconds_count{service="orders",method="GET",route="/orders/:id",code="200"} 2',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{service="orders",method="GET",route="/orders/:id",code="400"} 1',
    );
  });

  it("lets two services share one registry", async () => {
    const registry = new Registry();
    const probes = await buildService({ name: "probes", logger: silentLogger(), registry, docs: false });
    const api = await orderService({ registry });
    await probes.inject({ method: "GET", url: "/healthz" });
    await api.inject({ method: "GET", url: "/healthz" });
    const text = await registry.metrics();
    expect(text).toContain('service="probes"');
    expect(text).toContain('service="orders"');
  });
});

describe("buildService: OpenAPI", () => {
  it("documents routes from their zod schemas at /docs/json and serves the UI at /docs", async () => {
    const app = await orderService();
    const doc = (await app.inject({ method: "GET", url: "/docs/json" })).json<{
      info: { title: string };
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: unknown }> } } }>;
    }>();
    expect(doc.info.title).toBe("orders");
    expect(Object.keys(doc.paths)).toEqual(["/orders", "/orders/{id}"]);
    expect(doc.paths["/orders"]?.post?.requestBody?.content["application/json"]?.schema).toMatchObject({
      required: ["customer", "items"],
      properties: { customer: { type: "string", description: "Who orders" } },
    });
    const ui = await app.inject({ method: "GET", url: "/docs" });
    expect(ui.statusCode).toBe(200);
    // Every asset the page loads is served by the service itself (nothing from a CDN).
    const assets = [...ui.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(assets).toContain("/docs/static/swagger-ui-bundle.js");
    for (const asset of assets) {
      expect((await app.inject({ method: "GET", url: asset })).statusCode, asset).toBe(200);
    }
  });
});

describe("closeOnSignals", () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it("stops taking connections on SIGTERM and lets the request in flight finish", async () => {
    const app = await orderService();
    let release: () => void = () => {};
    let started: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      started = resolve;
    });
    app.get("/slow", async () => {
      started();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { done: true };
    });
    const port = await listenService(app, 0, "127.0.0.1");
    const shutdown = closeOnSignals(app, { signals: ["SIGTERM"], graceMs: 5_000 });
    stop = shutdown.dispose;

    const slow = get(port, "/slow");
    await inHandler;
    process.emit("SIGTERM");
    // The listener closes: a new connection is refused while the slow request is still running.
    await waitFor("the listener to close", () => !app.server.listening, { timeoutMs: 2_000, intervalMs: 5 });
    await expect(get(port, "/healthz", false)).rejects.toThrow(/ECONNREFUSED/);
    release();
    expect(await slow).toEqual({ status: 200, body: '{"done":true}' });
    expect(await shutdown.closed).toBe("SIGTERM");
  });
});

function get(port: number, path: string, keepAlive = true): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive });
    http
      .get({ host: "127.0.0.1", port, path, agent }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}
