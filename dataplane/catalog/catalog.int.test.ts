// @testbed control data
/**
 * The catalog against the testbed (apiserver for CatalogAssets and RBAC, MariaDB for the index): assets
 * registered by the CatalogAsset controller are found by description words, tag and column name in rank
 * order, a schema change becomes version 2, a tenant never sees another tenant's assets; RunEvents sent by
 * the real openlineage-python client are accepted and the lineage query returns the job's graph; a malformed
 * RunEvent is a 400 naming the field.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { CATALOG_ASSETS, createCatalogAssetController } from "../../controllers/catalog-asset/reconciler.ts";
import { KubeAuth, listenService, type Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  createObject,
  getObject,
  mergePatch,
  REPO,
  testLogger,
  waitFor,
} from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl } from "../../test-e2e/support/kubectl.ts";
import { migrate } from "../shared/mysql.ts";
import { createTestDatabase, grantTenant, type Tenant } from "../testing/testbed.ts";
import { mariadbCatalogIndex } from "./index.ts";
import { CATALOG_MIGRATIONS } from "./migrations.ts";
import { buildCatalogService } from "./service.ts";

const GRANT = { resources: ["catalogassets", "lineageevents"], verbs: ["get", "list", "create"] };

const tb = useTestbed({ namespace: "catalog-a", cleanup: [CATALOG_ASSETS] });
let client: KubeClient;
let teamA: Tenant;
let teamB: Tenant;
let app: Service;

function asset(namespace: string, name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: CATALOG_ASSETS.apiVersion,
    kind: CATALOG_ASSETS.kind,
    metadata: { namespace, name },
    spec: { type: "dataset", location: `s3://lake/${name}/`, owner: "data-eng@example.com", ...spec },
  };
}

async function search(tenant: Tenant, query: Record<string, string>) {
  const response = await app.inject({
    method: "GET",
    url: "/darwin-catalog/v1/assets",
    query,
    headers: { authorization: `Bearer ${tenant.token}` },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as {
    total: number;
    assets: Array<{ name: string; namespace: string; score: number }>;
  };
}

const registered = (namespace: string, name: string) =>
  waitFor(`CatalogAsset ${name} registered`, async () => {
    const object = await getObject(client, CATALOG_ASSETS, namespace, name);
    return (object?.status as { registered?: boolean } | undefined)?.registered === true && object;
  });

beforeAll(async () => {
  client = tb.client;
  const db = await createTestDatabase("catalog_it");
  tb.defer(() => db.drop());
  await migrate(db.pool, "catalog", CATALOG_MIGRATIONS);
  teamA = await grantTenant(client, tb.namespace, GRANT);
  teamB = await grantTenant(client, await tb.createNamespace("catalog-b"), GRANT);
  await tb.startOperator([createCatalogAssetController({ index: mariadbCatalogIndex({ pool: db.pool }) })], {
    namespaces: [teamA.namespace, teamB.namespace],
  });
  // While the controller runs, so its finalizer removes the index rows and lets the namespaces go.
  tb.beforeStop(async () => {
    for (const tenant of [teamA, teamB])
      await kubectl(["delete", "catalogassets", "--all", "-n", tenant.namespace, "--timeout=60s"]);
  });
  app = await buildCatalogService({
    pool: db.pool,
    auth: new KubeAuth({ client }),
    logger: testLogger(),
    registry: new Registry(),
  });
  tb.defer(() => app.close());
});

describe("catalog search", () => {
  it("finds assets by description words, tag and column name, ranked, within the caller's tenants", async () => {
    const a = teamA.namespace;
    await createObject(
      client,
      CATALOG_ASSETS,
      asset(a, "housing-prices-raw", {
        description: "Raw housing sales with prices from the county registry",
        tags: ["housing", "raw"],
        schema: [
          { name: "bedrooms", type: "int32" },
          { name: "sale_price", type: "float64", description: "Final price in USD" },
        ],
      }),
    );
    await createObject(
      client,
      CATALOG_ASSETS,
      asset(a, "housing-features", {
        type: "feature-group",
        description: "Features derived for the housing price model",
        tags: ["housing"],
        schema: [{ name: "rooms_per_household", type: "float64" }],
      }),
    );
    await createObject(
      client,
      CATALOG_ASSETS,
      asset(a, "churn-events", {
        type: "stream",
        location: "kafka://127.0.0.1:29092/churn",
        description: "Customer churn signals",
        tags: ["churn"],
        schema: [{ name: "customer_id", type: "string" }],
      }),
    );
    // Another tenant's asset that matches every query below.
    await createObject(
      client,
      CATALOG_ASSETS,
      asset(teamB.namespace, "housing-secret", {
        description: "Housing sales prices of team B",
        tags: ["housing"],
        schema: [{ name: "bedrooms", type: "int32" }],
      }),
    );
    for (const name of ["housing-prices-raw", "housing-features", "churn-events"]) await registered(a, name);
    await registered(teamB.namespace, "housing-secret");

    // Words of the description: both housing assets, the one that says "sales" and "prices" first.
    const byWords = await search(teamA, { q: "housing sales prices" });
    expect(byWords.assets.map((x) => x.name)).toEqual(["housing-prices-raw", "housing-features"]);
    expect(byWords.assets[0]?.score).toBeGreaterThan(byWords.assets[1]?.score ?? 0);

    const byTag = await search(teamA, { tag: "housing" });
    expect(byTag.assets.map((x) => x.name).sort()).toEqual(["housing-features", "housing-prices-raw"]);

    const byColumn = await search(teamA, { q: "bedrooms" });
    expect(byColumn.assets.map((x) => x.name)).toEqual(["housing-prices-raw"]);
    const byColumnWord = await search(teamA, { q: "household" });
    expect(byColumnWord.assets.map((x) => x.name)).toEqual(["housing-features"]);

    // Tenant isolation: each sees only its own, and naming the other's namespace is refused.
    const queries: Record<string, string>[] = [
      { q: "housing sales prices" },
      { tag: "housing" },
      { q: "bedrooms" },
    ];
    for (const query of queries) {
      expect((await search(teamA, query)).assets.every((x) => x.namespace === a)).toBe(true);
      expect((await search(teamB, query)).assets.map((x) => x.name)).toEqual(["housing-secret"]);
    }
    const foreign = await app.inject({
      method: "GET",
      url: "/darwin-catalog/v1/assets",
      query: { namespace: a, q: "housing" },
      headers: { authorization: `Bearer ${teamB.token}` },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
  });

  it("keeps the schema history when the columns change", async () => {
    const a = teamA.namespace;
    await createObject(
      client,
      CATALOG_ASSETS,
      asset(a, "orders", { type: "table", schema: [{ name: "order_id", type: "int64" }] }),
    );
    await registered(a, "orders");
    await mergePatch(client, CATALOG_ASSETS, a, "orders", {
      spec: {
        schema: [
          { name: "order_id", type: "int64" },
          { name: "amount", type: "decimal" },
        ],
      },
    });
    await waitFor("schema version 2", async () => {
      const object = await getObject(client, CATALOG_ASSETS, a, "orders");
      return (object?.status as { schemaVersion?: number } | undefined)?.schemaVersion === 2;
    });
    const response = await app.inject({
      method: "GET",
      url: `/darwin-catalog/v1/namespaces/${a}/assets/orders`,
      headers: { authorization: `Bearer ${teamA.token}` },
    });
    const body = response.json() as {
      schemaHistory: Array<{ version: number; fields: Array<{ name: string }> }>;
    };
    expect(body.schemaHistory.map((v) => [v.version, v.fields.map((f) => f.name)])).toEqual([
      [1, ["order_id"]],
      [2, ["order_id", "amount"]],
    ]);
  });
});

describe("OpenLineage", () => {
  it("takes RunEvents from openlineage-python and returns the job's graph", async () => {
    const python = execFileSync(join(REPO, "hack", "openlineage-python"), { encoding: "utf8" }).trim();
    const port = await listenService(app, 0, "127.0.0.1");
    const job = { namespace: "airflow-prod", name: `housing.train_${Date.now().toString(36)}` };
    const spec = {
      job,
      runId: randomUUID(),
      inputs: [
        { namespace: "s3://lake", name: "housing/raw" },
        { namespace: "kafka://127.0.0.1:29092", name: "housing-listings" },
      ],
      outputs: [{ namespace: "s3://lake", name: "housing/features" }],
    };
    // Asynchronously: the catalog answering it runs in this process.
    await promisify(execFile)(
      python,
      [
        join(import.meta.dirname, "testing", "emit_openlineage.py"),
        `http://127.0.0.1:${port}`,
        `darwin-catalog/v1/lineage?namespace=${teamA.namespace}`,
        teamA.token,
        JSON.stringify(spec),
      ],
      { encoding: "utf8" },
    );

    const response = await app.inject({
      method: "GET",
      url: "/darwin-catalog/v1/lineage",
      query: { nodeId: `job:${job.namespace}:${job.name}`, depth: "2", namespace: teamA.namespace },
      headers: { authorization: `Bearer ${teamA.token}` },
    });
    expect(response.statusCode, response.body).toBe(200);
    const { graph } = response.json() as {
      graph: Array<{
        id: string;
        type: string;
        data: Record<string, unknown>;
        inEdges: unknown[];
        outEdges: unknown[];
      }>;
    };
    const jobId = `job:${job.namespace}:${job.name}`;
    expect(graph.map((n) => n.id).sort()).toEqual(
      [
        jobId,
        "dataset:s3://lake:housing/raw",
        "dataset:kafka://127.0.0.1:29092:housing-listings",
        "dataset:s3://lake:housing/features",
      ].sort(),
    );
    const jobNode = graph.find((n) => n.id === jobId);
    expect(jobNode?.inEdges).toHaveLength(2);
    expect(jobNode?.outEdges).toEqual([{ origin: jobId, destination: "dataset:s3://lake:housing/features" }]);
    expect(jobNode?.data.latestRun).toMatchObject({ runId: spec.runId, state: "COMPLETE" });
    const output = graph.find((n) => n.id === "dataset:s3://lake:housing/features");
    expect(output?.data.facets).toMatchObject({ schema: { fields: [{ name: "price", type: "double" }] } });

    // Another tenant does not see it.
    const foreign = await app.inject({
      method: "GET",
      url: "/darwin-catalog/v1/lineage",
      query: { nodeId: jobId, namespace: teamB.namespace },
      headers: { authorization: `Bearer ${teamB.token}` },
    });
    expect(foreign.statusCode).toBe(404);
  });

  it("refuses a malformed RunEvent with 400 naming the field", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/darwin-catalog/v1/lineage",
      query: { namespace: teamA.namespace },
      headers: { authorization: `Bearer ${teamA.token}` },
      payload: {
        eventType: "COMPLETE",
        eventTime: new Date().toISOString(),
        producer: "https://example.com/producer",
        schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        run: { runId: "run-42" },
        job: { namespace: "airflow", name: "x" },
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: { code: "INVALID_REQUEST", field: "body.run.runId", message: expect.stringMatching(/uuid/) },
    });
  });
});
