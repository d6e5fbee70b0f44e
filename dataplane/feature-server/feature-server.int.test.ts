// @testbed control data

/**
 * The feature server against the real testbed: the FeatureGroup controller makes the tables, rows are
 * written the way writers write them (with the event time as the write timestamp), and both routes read
 * them back through the server, authenticated with real ServiceAccount tokens (TokenReview) and authorized
 * by RBAC (SubjectAccessReview).
 *
 * The Feast comparison uses fixtures/feast-0.67-get-online-features.json: a request and the answer Feast
 * 0.67.0's own feature server (`feast serve` over its Cassandra online store) gave, recorded from the real
 * server (see fixtures/README.md). The test writes the same values with the same event times and expects
 * the same answer, field for field.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client as CassandraClient } from "cassandra-driver";
import { beforeAll, describe, expect, it } from "vitest";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  createObject,
  mergePatch,
  testbed,
  testbedClient,
  testLogger,
  waitFor,
} from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  groupStatus,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  testStoreConfig,
  waitForReady,
  writeFeatureRow,
} from "../../test-e2e/support/feature-store.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { grantTenant } from "../testing/testbed.ts";
import { featureServerConfig } from "./config.ts";
import { type RunningFeatureServer, startFeatureServer } from "./server.ts";

const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "feast-0.67-get-online-features.json"), "utf8"),
) as { request: unknown; response: unknown };

const FETCH = "/feature-store/v1/features:fetch";
const FEAST = "/get-online-features";

const tb = useTestbed({ namespace: "fs-srv-a", cleanup: [FEATURE_GROUPS] });
let client: KubeClient;
let nsA: string;
let nsB: string;
let server: RunningFeatureServer;
let cassandra: CassandraClient;
let admin: string;
let readerA: string;
let readerB: string;

/** What the tests read of an answer: an error, or a fetch_features answer (Feast's is compared whole). */
interface AnswerBody {
  error: { code: string; message: string };
  version: number;
  rows: Array<{ values: unknown[]; statuses: string[]; event_timestamps: Array<string | null> }>;
}

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: AnswerBody;
}

async function post(
  path: string,
  body: unknown,
  { token = admin, namespace, raw }: { token?: string | null; namespace?: string; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (namespace) headers["x-darwin-namespace"] = namespace;
  const response = await server.app.inject({
    method: "POST",
    url: path,
    headers,
    payload: raw ?? JSON.stringify(body),
  });
  let parsed: unknown;
  try {
    parsed = response.json();
  } catch {
    parsed = response.body;
  }
  return { statusCode: response.statusCode, headers: response.headers, body: parsed as AnswerBody };
}

/** Writes a row as a writer does (see writeFeatureRow). */
const writeRow = (
  namespace: string,
  group: string,
  version: number,
  values: Record<string, unknown>,
  eventTime: Date,
) => writeFeatureRow(cassandra, namespace, group, version, values, eventTime);

const seedCall = {
  feature_group_name: "user_features",
  feature_columns: ["age", "tenure", "activity_score"],
  primary_key_names: ["user_id"],
  primary_key_values: [[123], [456], [789]],
};

beforeAll(async () => {
  client = tb.client;
  admin = adminToken();
  nsA = tb.namespace;
  nsB = await tb.createNamespace("fs-srv-b");
  tb.defer(() => dropTestStores(nsB));
  tb.defer(() => dropTestStores(nsA));
  cassandra = testCassandra();
  tb.defer(() => cassandra.shutdown());
  const operator = await startFeatureGroupOperator(nsA, nsB);
  tb.defer(() => operator.stop());
  const stores = testStoreConfig();
  server = await startFeatureServer({
    config: featureServerConfig.parse({ maxKeys: 100, authCacheSeconds: 1, cassandra: stores.cassandra }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  await server.informer.waitForSync();
  // ServiceAccounts `reader` allowed to get FeatureGroups in their own namespace.
  const reader = { resources: ["featuregroups"], verbs: ["get"], account: "reader" };
  readerA = (await grantTenant(client, nsA, reader)).token;
  readerB = (await grantTenant(client, nsB, reader)).token;

  // The seed's group; no TTL here, so the fixture's event times stay fresh whenever the test runs.
  await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(nsA, { ttlSeconds: 0 }));
  const shortLived = sampleFeatureGroup(nsA, { ttlSeconds: 60, stream: { enabled: false } });
  shortLived.metadata.name = "sessions";
  await createObject(client, FEATURE_GROUPS, shortLived);
  await waitForReady(client, nsA, "user-features");
  await waitForReady(client, nsA, "sessions");
  const times = ["2026-11-27T09:27:05Z", "2026-11-27T09:42:05Z", "2026-11-27T09:29:05Z"];
  const rows = [
    { user_id: 123n, age: 59, tenure: 7.575, activity_score: 0.75088 },
    { user_id: 456n, age: 52, tenure: 4.325, activity_score: 0.014841 },
    { user_id: 789n, age: 52, tenure: 18.505, activity_score: 0.269554 },
  ];
  for (const [i, row] of rows.entries())
    await writeRow(nsA, "user-features", 1, row, new Date(times[i] as string));
});

describe("feature server", () => {
  it("returns written rows to the seed's fetch_features call, with NOT_FOUND for an unknown key", async () => {
    const answer = await post(
      FETCH,
      { ...seedCall, primary_key_values: [[123], [456], [1000]] },
      { namespace: nsA },
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({
      feature_group_name: "user_features",
      version: 1,
      feature_columns: ["age", "tenure", "activity_score"],
      primary_key_names: ["user_id"],
      rows: [
        {
          primary_key_values: [123],
          values: [59, 7.575, 0.75088],
          statuses: ["PRESENT", "PRESENT", "PRESENT"],
          event_timestamps: Array(3).fill("2026-11-27T09:27:05.000Z"),
        },
        {
          primary_key_values: [456],
          values: [52, 4.325, 0.014841],
          statuses: ["PRESENT", "PRESENT", "PRESENT"],
          event_timestamps: Array(3).fill("2026-11-27T09:42:05.000Z"),
        },
        {
          primary_key_values: [1000],
          values: [null, null, null],
          statuses: ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"],
          event_timestamps: [null, null, null],
        },
      ],
    });
  });

  it("answers Feast's request exactly as Feast 0.67's server did (recorded fixture)", async () => {
    const answer = await post(FEAST, FIXTURE.request, { namespace: nsA });
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual(FIXTURE.response);
    // The same through the namespace in the path, the form a Feast client's URL can carry.
    const viaPath = await post(`/namespaces/${nsA}${FEAST}`, FIXTURE.request);
    expect(viaPath.body).toEqual(FIXTURE.response);
  });

  it("reports an expired value as OUTSIDE_MAX_AGE, with its event time, never as fresh", async () => {
    const now = Date.now();
    await writeRow(nsA, "sessions", 1, { user_id: 1n, age: 30, tenure: 1.5 }, new Date(now - 10 * 60_000));
    await writeRow(nsA, "sessions", 1, { user_id: 1n, activity_score: 0.5 }, new Date(now - 5_000));
    const answer = await post(
      FETCH,
      { ...seedCall, feature_group_name: "sessions", primary_key_values: [[1]] },
      { namespace: nsA },
    );
    expect(answer.statusCode).toBe(200);
    const row = answer.body.rows[0];
    expect(row?.values).toEqual([null, null, 0.5]);
    expect(row?.statuses).toEqual(["OUTSIDE_MAX_AGE", "OUTSIDE_MAX_AGE", "PRESENT"]);
    expect(row?.event_timestamps[0]).toBe(new Date(now - 10 * 60_000).toISOString());
  });

  it("serves a feature added in place: old rows report NOT_FOUND for it, new writes are PRESENT", async () => {
    const sample = sampleFeatureGroup(nsA);
    const features = [
      ...(sample.spec as { features: object[] }).features,
      { name: "country", type: "string" },
    ];
    await mergePatch(client, FEATURE_GROUPS, nsA, "user-features", { spec: { features } });
    await waitForReady(client, nsA, "user-features");
    await writeRow(nsA, "user-features", 1, { user_id: 456n, country: "IN" }, new Date());
    const call = { ...seedCall, feature_columns: ["country", "age"], primary_key_values: [[123], [456]] };
    const answer = await waitFor("the server to know the new feature", async () => {
      const a = await post(FETCH, call, { namespace: nsA });
      return a.statusCode === 200 ? a : undefined;
    });
    expect(answer.body.rows.map((r) => r.statuses)).toEqual([
      ["NOT_FOUND", "PRESENT"],
      ["PRESENT", "PRESENT"],
    ]);
    expect(answer.body.rows[1]?.values).toEqual(["IN", 52]);
  });

  it("serves version 2 (a changed type) beside version 1", async () => {
    await mergePatch(client, FEATURE_GROUPS, nsA, "user-features", {
      spec: {
        version: 2,
        features: [
          { name: "age", type: "int64" },
          { name: "tenure", type: "float64" },
          { name: "activity_score", type: "float64" },
        ],
      },
    });
    const status = await waitForReady(client, nsA, "user-features");
    expect(status.servedVersions).toEqual([1, 2]);
    await writeRow(
      nsA,
      "user-features",
      2,
      { user_id: 123n, age: 60n, tenure: 8, activity_score: 0.8 },
      new Date(),
    );
    const v2 = await waitFor("version 2 served", async () => {
      const a = await post(FETCH, { ...seedCall, primary_key_values: [[123]] }, { namespace: nsA });
      return a.statusCode === 200 && a.body.version === 2 ? a : undefined;
    });
    expect(v2.body.rows[0]?.values).toEqual([60, 8, 0.8]);
    const v1 = await post(
      FETCH,
      { ...seedCall, version: 1, primary_key_values: [[123]] },
      { namespace: nsA },
    );
    expect(v1.statusCode).toBe(200);
    expect(v1.body.rows[0]?.values).toEqual([59, 7.575, 0.75088]);
    const v7 = await post(FETCH, { ...seedCall, version: 7 }, { namespace: nsA });
    expect(v7.statusCode).toBe(404);
    expect(v7.body.error.message).toContain("version 7");
  });

  it("keeps tenants apart: another namespace's group is not found, a foreign ServiceAccount gets 403, no token 401", async () => {
    const asB = await post(FETCH, seedCall, { namespace: nsB });
    expect(asB.statusCode).toBe(404);
    expect(asB.body.error.message).toContain(`does not exist in namespace "${nsB}"`);

    const ownTenant = await post(FETCH, seedCall, { token: readerA });
    expect(ownTenant.statusCode).toBe(200);

    const foreign = await post(`/namespaces/${nsA}${FETCH}`, seedCall, { token: readerB });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body.error.message).toContain(`system:serviceaccount:${nsB}:reader`);
    const foreignFeast = await post(FEAST, FIXTURE.request, { token: readerB, namespace: nsA });
    expect(foreignFeast.statusCode).toBe(403);

    const anonymous = await post(FETCH, seedCall, { token: null, namespace: nsA });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.body.error.message).toContain("bearer token");
    const forged = await post(FETCH, seedCall, { token: "not-a-token", namespace: nsA });
    expect(forged.statusCode).toBe(401);
  });

  it("answers each bad request with a 4xx naming the problem", async () => {
    const ok = { ...seedCall };
    const cases: Array<[string, string, unknown, RegExp, { raw?: string; status?: number }?]> = [
      [
        "unknown group",
        FETCH,
        { ...ok, feature_group_name: "nope" },
        /"nope" does not exist/,
        { status: 404 },
      ],
      ["unknown column", FETCH, { ...ok, feature_columns: ["age", "height"] }, /no feature "height"/],
      ["entity as a column", FETCH, { ...ok, feature_columns: ["user_id"] }, /"user_id" is an entity key/],
      ["duplicated column", FETCH, { ...ok, feature_columns: ["age", "age"] }, /lists "age" twice/],
      ["no columns", FETCH, { ...ok, feature_columns: [] }, /feature_columns/],
      [
        "unknown key name",
        FETCH,
        { ...ok, primary_key_names: ["account_id"] },
        /"account_id" is not an entity key/,
      ],
      [
        "duplicated key name",
        FETCH,
        { ...ok, primary_key_names: ["user_id", "user_id"] },
        /lists "user_id" twice/,
      ],
      ["too few key values", FETCH, { ...ok, primary_key_values: [[123], []] }, /primary_key_values\[1\]/],
      [
        "too many key values",
        FETCH,
        { ...ok, primary_key_values: [[123, 4]] },
        /primary_key_values\[0\] has 2/,
      ],
      [
        "key of the wrong type",
        FETCH,
        { ...ok, primary_key_values: [["abc"]] },
        /user_id\): must be an int64/,
      ],
      ["fractional key", FETCH, { ...ok, primary_key_values: [[1.5]] }, /must be an int64/],
      ["key as an object", FETCH, { ...ok, primary_key_values: [[{ id: 1 }]] }, /primary_key_values/],
      [
        "too many keys",
        FETCH,
        { ...ok, primary_key_values: Array.from({ length: 101 }, (_, i) => [i]) },
        /at most 100/,
      ],
      ["unknown version", FETCH, { ...ok, version: 99 }, /version 99/, { status: 404 }],
      ["version zero", FETCH, { ...ok, version: 0 }, /version/],
      ["missing group name", FETCH, { ...ok, feature_group_name: undefined }, /feature_group_name/],
      ["unknown field", FETCH, { ...ok, colour: "blue" }, /colour/],
      ["malformed JSON", FETCH, undefined, /JSON/i, { raw: '{"feature_group_name": ' }],
      ["bad namespace header", FETCH, ok, /not a namespace name/, {}],
      [
        "feast: reference without group",
        FEAST,
        { features: ["age"], entities: { user_id: [1] } },
        /not group:feature/,
      ],
      [
        "feast: unknown feature",
        FEAST,
        { features: ["user_features:height"], entities: { user_id: [1] } },
        /no feature "height"/,
      ],
      [
        "feast: unknown group",
        FEAST,
        { features: ["nope:age"], entities: { user_id: [1] } },
        /"nope" does not exist/,
        { status: 404 },
      ],
      [
        "feast: missing entity",
        FEAST,
        { features: ["user_features:age"], entities: { account_id: [1] } },
        /no user_id/,
      ],
      [
        "feast: ragged entities",
        FEAST,
        { features: ["user_features:age"], entities: { user_id: [1, 2], x: [1] } },
        /one value per row/,
      ],
      [
        "feast: duplicated feature",
        FEAST,
        { features: ["user_features:age", "user_features:age"], entities: { user_id: [1] } },
        /twice/,
      ],
      [
        "feast: feature_service",
        FEAST,
        { feature_service: "svc", entities: { user_id: [1] } },
        /feature_service is not supported/,
      ],
      [
        "feast: key of the wrong type",
        FEAST,
        { features: ["user_features:age"], entities: { user_id: [true] } },
        /entities/,
      ],
    ];
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const [what, path, body, message, options = {}] of cases) {
      const namespace = what === "bad namespace header" ? "Not_A_Namespace" : nsA;
      const answer = await post(path, body, { namespace, ...(options.raw ? { raw: options.raw } : {}) });
      expect.soft(answer.statusCode, what).toBe(options.status ?? 400);
      expect.soft(answer.body?.error?.message, what).toMatch(message);
    }
  });

  it("never answers 5xx to requests generated from its OpenAPI document", async () => {
    const docs = await server.app.inject({ method: "GET", url: "/docs/json" });
    expect(docs.statusCode).toBe(200);
    const openapi = docs.json() as OpenApi;
    const operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(4);
    const random = seeded(20261127);
    let sent = 0;
    for (const { path, op } of operations) {
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      if (!schema) continue;
      for (let i = 0; i < 60; i++) {
        const body = generate(schema, openapi, random, 0);
        const url = path.replace("{namespace}", random() < 0.8 ? nsA : "x".repeat(70));
        const answer = await post(url, body, { namespace: nsA });
        sent++;
        expect(answer.statusCode, `${url} ${JSON.stringify(body).slice(0, 300)}`).toBeLessThan(500);
      }
    }
    expect(sent).toBeGreaterThanOrEqual(200);
  });

  it("answers 503 with Retry-After while Cassandra is down, says why on the group, and recovers by itself", {
    timeout: 240_000,
  }, async () => {
    testbed("stop", "cassandra");
    try {
      const down = await waitFor(
        "503 from the server",
        async () => {
          const a = await post(FETCH, seedCall, { namespace: nsA });
          return a.statusCode === 503 ? a : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(Number(down.headers["retry-after"])).toBeGreaterThan(0);
      expect(down.body.error.message).toMatch(/Cassandra/);
      const condition = await waitFor(
        "the group to say Cassandra is unavailable",
        async () => {
          const status = await groupStatus(client, nsA, "user-features");
          const ready = findCondition(status.conditions, "Ready");
          return ready?.status === "False" ? ready : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(condition.reason).toBe("CassandraUnavailable");
    } finally {
      testbed("up", "cassandra");
    }
    await waitFor(
      "the server to answer again",
      async () => {
        const a = await post(FETCH, seedCall, { namespace: nsA });
        return a.statusCode === 200;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    await waitForReady(client, nsA, "user-features", "True", 90_000);
  });
});

interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}
type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
};

/** A small deterministic PRNG, so a failing fuzz case can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NASTY = [
  "",
  "user_features",
  "age",
  "user_id",
  "x".repeat(300),
  "../../etc",
  "'; DROP TABLE x; --",
  "\u0000",
  "日本",
  "a:b:c",
];

/**
 * A value for `schema`: mostly what it asks for (so requests get past validation into the handlers), with
 * mutations: wrong types, missing required fields, extra fields, boundary numbers, odd strings.
 */
function generate(schema: Schema, doc: OpenApi, random: () => number, depth: number): unknown {
  if (schema.$ref) {
    const name = schema.$ref.split("/").at(-1) ?? "";
    return generate(doc.components?.schemas?.[name] ?? {}, doc, random, depth);
  }
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  if (random() < 0.08 || depth > 5) return pick([null, 42, -1, 1e308, "text", true, [], {}]);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return generate(pick(alternatives), doc, random, depth + 1);
  if (schema.enum) return pick(schema.enum);
  const type = Array.isArray(schema.type) ? pick(schema.type) : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        const required = schema.required?.includes(key);
        if (required ? random() < 0.95 : random() < 0.5) out[key] = generate(child, doc, random, depth + 1);
      }
      if (typeof schema.additionalProperties === "object") {
        for (let i = 0; i < 1 + Math.floor(random() * 3); i++)
          out[pick(NASTY.concat(["user_id", "x"]))] = generate(
            schema.additionalProperties,
            doc,
            random,
            depth + 1,
          );
      } else if (random() < 0.1) {
        out[pick(NASTY)] = "extra";
      }
      return out;
    }
    case "array": {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 5, min + 5);
      const length = random() < 0.1 ? max + 1 : min + Math.floor(random() * (max - min + 1));
      return Array.from({ length }, () => generate(schema.items ?? {}, doc, random, depth + 1));
    }
    case "integer":
      return pick([0, 1, 2, 123, 456, -1, 2 ** 31, 2 ** 53, schema.minimum ?? 0, schema.maximum ?? 7]);
    case "number":
      return pick([0, 1.5, -3, 123, 1e21, schema.minimum ?? 0]);
    case "boolean":
      return random() < 0.5;
    case "string":
      return pick(NASTY.concat(["user_features:age", "user_features:tenure", "nope:age", "123"]));
    default:
      return pick([null, 1, "s", [], {}]);
  }
}
