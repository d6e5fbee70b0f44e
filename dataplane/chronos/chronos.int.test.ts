// @testbed control data
/**
 * Chronos against the testbed (apiserver for ChronosTransformers and RBAC, Kafka, MariaDB): events posted to
 * the API go through Kafka to the processor; the same event twice gives one set of rows; a rule that fails
 * dead-letters the event, is counted in its status, and the other rules still apply; a Kafka restart during
 * ingestion is 503 with Retry-After while it is down and nothing acknowledged is lost; tenants are kept apart.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { MessagesStreamFallbackModes, MessagesStreamModes } from "@platformatic/kafka";
import { beforeAll, describe, expect, it } from "vitest";
import type { Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { CHRONOS, createObject, getObject, REPO, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kafkaConsumer } from "../../test-e2e/testbed/kafka.ts";
import { uniqueName } from "../../test-e2e/testbed/testbed-cli.ts";
import type { Rows } from "../shared/mysql.ts";
import { startChronos, type TestChronos } from "../testing/chronos.ts";
import { grantTenant, type Tenant, type TestDatabase } from "../testing/testbed.ts";
import { dlqTopic } from "./kafka.ts";
import { DLQ_HEADERS } from "./processor.ts";

const GRANT = { resources: ["chronosevents"], verbs: ["create", "get", "list"] };
const run = promisify(execFile);

const tb = useTestbed({ namespace: "chronos-a" });
let client: KubeClient;
let tenant: Tenant;
let other: Tenant;
let chronos: TestChronos;
let db: TestDatabase;
let app: Service;

function transformer(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: CHRONOS.apiVersion,
    kind: CHRONOS.kind,
    metadata: { namespace: tenant.namespace, name },
    spec: { source: "ml-pipeline", ...spec },
  };
}

async function post(path: string, body: unknown, token = tenant.token) {
  return app.inject({
    method: "POST",
    url: `/chronos/api/v1/${path}`,
    headers: { authorization: `Bearer ${token}` },
    payload: body as object,
  });
}

async function get(path: string, token = tenant.token) {
  return app.inject({
    method: "GET",
    url: `/chronos/api/v1/namespaces/${tenant.namespace}/${path}`,
    headers: { authorization: `Bearer ${token}` },
  });
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [rows] = await db.pool.query<Rows>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

const recorded = (id: string) =>
  waitFor(
    `event ${id} in the event log`,
    async () =>
      (await count("SELECT COUNT(*) AS n FROM chronos_events WHERE namespace = ? AND id = ?", [
        tenant.namespace,
        id,
      ])) === 1,
  );

beforeAll(async () => {
  client = tb.client;
  tenant = await grantTenant(client, tb.namespace, GRANT);
  other = await grantTenant(client, await tb.createNamespace("chronos-b"), GRANT);
  chronos = await startChronos(client, tenant.namespace);
  tb.defer(() => chronos.stop());
  ({ db, app } = chronos);
});

describe("Chronos", () => {
  it("stores one set of rows for the same event sent twice", async () => {
    await createObject(
      client,
      CHRONOS,
      transformer("training-lineage", {
        match: 'type = "model_trained"',
        transform: `{
          "entities": [{"type": "model", "id": payload.model, "attributes": {"version": payload.version}},
                       {"type": "dataset", "id": payload.dataset}],
          "relationships": [{"from": {"type": "dataset", "id": payload.dataset},
                             "to": {"type": "model", "id": payload.model}, "type": "trained"}]
        }`,
      }),
    );
    await waitFor("the rule is loaded", async () => {
      const object = await getObject(client, CHRONOS, tenant.namespace, "training-lineage");
      return (
        (object?.status as { conditions?: Array<{ reason: string }> })?.conditions?.[0]?.reason === "Loaded"
      );
    });
    const event = {
      id: uniqueName("train"),
      source: "ml-pipeline",
      type: "model_trained",
      payload: { model: "iris", version: 3, dataset: "iris-raw" },
    };
    const first = await post("event", event);
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toEqual({ id: event.id });
    await recorded(event.id);
    const again = await post("events", { events: [event] });
    expect(again.statusCode).toBe(202);
    await waitFor("the repeat consumed", () => chronos.processor.counters.duplicates >= 1);

    const ns = tenant.namespace;
    expect(
      await count("SELECT COUNT(*) AS n FROM chronos_events WHERE namespace = ? AND id = ?", [ns, event.id]),
    ).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM chronos_entities WHERE namespace = ?", [ns])).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM chronos_relationships WHERE namespace = ?", [ns])).toBe(1);
    const model = await get("entities/model/iris");
    expect(model.json()).toMatchObject({ type: "model", id: "iris", attributes: { version: 3 } });
    const events = await get("entities/model/iris/events");
    expect((events.json() as { events: Array<{ id: string }> }).events.map((e) => e.id)).toEqual([event.id]);
    const lineage = await get("entities/model/iris/lineage?direction=upstream&depth=3");
    expect(lineage.json()).toMatchObject({
      nodes: [
        expect.objectContaining({ type: "model", id: "iris", distance: 0 }),
        expect.objectContaining({ type: "dataset", id: "iris-raw", distance: 1 }),
      ],
      edges: [
        { type: "trained", from: { type: "dataset", id: "iris-raw" }, to: { type: "model", id: "iris" } },
      ],
    });
    await waitFor("processed: 1 in the rule's status", async () => {
      const object = await getObject(client, CHRONOS, ns, "training-lineage");
      return (object?.status as { processed?: number })?.processed === 1;
    });
  });

  it("dead-letters an event a rule fails on, counts it, and still applies the other rules", async () => {
    await createObject(
      client,
      CHRONOS,
      transformer("broken-cost", {
        match: 'type = "job_finished"',
        transform: '{"entities": [{"type": "cost", "id": $string($number(payload.cost) + 1)}]}',
      }),
    );
    await createObject(
      client,
      CHRONOS,
      transformer("job-runs", {
        match: 'type = "job_finished"',
        transform: '{"entities": [{"type": "job", "id": payload.job}]}',
      }),
    );
    await waitFor("both rules loaded", async () => {
      for (const name of ["broken-cost", "job-runs"]) {
        const object = await getObject(client, CHRONOS, tenant.namespace, name);
        if ((object?.status as { conditions?: unknown[] })?.conditions === undefined) return false;
      }
      return true;
    });
    const id = uniqueName("job");
    const response = await post("event", {
      id,
      source: "ml-pipeline",
      type: "job_finished",
      payload: { job: "nightly-etl", cost: "a lot" },
    });
    expect(response.statusCode).toBe(202);
    await recorded(id);
    expect((await get("entities/job/nightly-etl")).statusCode).toBe(200);

    const status = await waitFor("failed: 1 in the broken rule's status", async () => {
      const object = await getObject(client, CHRONOS, tenant.namespace, "broken-cost");
      const s = object?.status as { failed?: number; processed?: number; lastError?: string } | undefined;
      return s?.failed === 1 && s;
    });
    expect(status.processed).toBe(0);
    expect(status.lastError).toMatch(new RegExp(`^event ${id}: transform failed at position \\d+: .*D3030`));
    await waitFor("processed: 1 in the other rule's status", async () => {
      const object = await getObject(client, CHRONOS, tenant.namespace, "job-runs");
      return (object?.status as { processed?: number })?.processed === 1;
    });

    const consumer = kafkaConsumer("chronos-it-dlq", uniqueName("chronos-it-dlq"));
    try {
      const stream = await consumer.consume({
        topics: [dlqTopic(chronos.topic)],
        autocommit: false,
        mode: MessagesStreamModes.EARLIEST,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      });
      let letter: { headers: Map<string, string>; value: string } | undefined;
      for await (const message of stream) {
        if (message.headers.get(DLQ_HEADERS.eventId) === id) {
          letter = message;
          break;
        }
      }
      await stream.close();
      expect(letter?.headers.get(DLQ_HEADERS.transformer)).toBe(`${tenant.namespace}/broken-cost`);
      expect(letter?.headers.get(DLQ_HEADERS.reason)).toMatch(/D3030/);
      expect(JSON.parse(letter?.value ?? "{}")).toMatchObject({ id, type: "job_finished" });
    } finally {
      await consumer.close(true);
    }
  });

  it("answers 503 with Retry-After while Kafka is down and loses nothing it acknowledged", {
    timeout: 300_000,
  }, async () => {
    const acknowledged: string[] = [];
    const refused: Array<string | undefined> = [];
    let sending = true;
    let sent = 0;
    const sender = (async () => {
      while (sending) {
        const id = `restart-${sent++}`;
        const response = await post("event", {
          id,
          source: "ml-pipeline",
          type: "heartbeat",
          payload: { n: sent },
        });
        if (response.statusCode === 202) acknowledged.push(id);
        else if (response.statusCode === 503)
          refused.push(response.headers["retry-after"] as string | undefined);
        else throw new Error(`unexpected ${response.statusCode}: ${response.body}`);
      }
    })();
    try {
      await waitFor("some events acknowledged", () => acknowledged.length >= 5);
      await run(join(REPO, "hack", "testbed"), ["stop", "kafka"], { cwd: REPO });
      await waitFor("a 503 while Kafka is down", () => refused.length >= 1, { timeoutMs: 60_000 });
      await run(join(REPO, "hack", "testbed"), ["up", "kafka"], { cwd: REPO, timeout: 180_000 });
      const before = acknowledged.length;
      await waitFor("events acknowledged again", () => acknowledged.length >= before + 5, {
        timeoutMs: 120_000,
      });
    } finally {
      sending = false;
      await sender;
    }
    expect(refused.every((retryAfter) => retryAfter !== undefined && Number(retryAfter) > 0)).toBe(true);
    await waitFor(
      `all ${acknowledged.length} acknowledged events in the event log`,
      async () =>
        (await count("SELECT COUNT(*) AS n FROM chronos_events WHERE namespace = ? AND id IN (?)", [
          tenant.namespace,
          acknowledged,
        ])) === acknowledged.length,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  });

  it("keeps tenants apart", async () => {
    const foreign = await get("entities/job/nightly-etl", other.token);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    const posting = await post(
      "event",
      { source: "ml-pipeline", type: "x", namespace: tenant.namespace },
      other.token,
    );
    expect(posting.statusCode).toBe(403);
    const own = await app.inject({
      method: "GET",
      url: `/chronos/api/v1/namespaces/${other.namespace}/entities/job/nightly-etl`,
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect(own.statusCode).toBe(404);
  });

  it("lists the tenant's sources and documents the API", async () => {
    const sources = await app.inject({
      method: "GET",
      url: "/chronos/api/v1/sources",
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    expect(sources.json()).toEqual({
      sources: [expect.objectContaining({ namespace: tenant.namespace, source: "ml-pipeline" })],
    });
    const docs = await app.inject({ method: "GET", url: "/docs/json" });
    expect(Object.keys((docs.json() as { paths: object }).paths)).toEqual(
      expect.arrayContaining(["/chronos/api/v1/event", "/chronos/api/v1/events", "/chronos/api/v1/sources"]),
    );
  });

  it("refuses a malformed event with 400 naming the field", async () => {
    const response = await post("event", { source: "Not A Source", type: "x" });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "INVALID_REQUEST", field: "body.source" } });
  });
});
