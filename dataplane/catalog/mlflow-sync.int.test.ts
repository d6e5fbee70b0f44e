// @testbed control data
/**
 * The catalog's MLflow sync against the testbed's real MLflow and MariaDB (and the apiserver for the
 * tenants' RBAC): a model trained and registered in MLflow, tagged with a tenant's namespace, is found by
 * that tenant's search with its versions, alias, run and experiment, and its lineage runs from the iris
 * data set through the run to the version; another tenant never sees it; a pass with nothing changed
 * writes nothing; renaming the model in MLflow renames the asset, retagging moves it to the other tenant,
 * and deleting it removes it.
 */
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { MlflowClient } from "../../controllers/serve/mlflow-client.ts";
import {
  deleteModel,
  mlflowURL,
  type RegisteredModel,
  renameModel,
  setModelTag,
  trainIris,
} from "../../controllers/serve/testing/mlflow.ts";
import { KubeAuth, type Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { testLogger } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { migrate } from "../shared/mysql.ts";
import { createTestDatabase, grantTenant, type Tenant, type TestDatabase } from "../testing/testbed.ts";
import { CATALOG_MIGRATIONS } from "./migrations.ts";
import { MlflowModelSync } from "./mlflow-sync.ts";
import { buildCatalogService } from "./service.ts";

const GRANT = { resources: ["catalogassets"], verbs: ["get", "list"] };
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const MODEL = `iris-catalog-${RUN}`;
const RENAMED = `iris-renamed-${RUN}`;

const tb = useTestbed({ namespace: "catalog-mlflow-a" });
let client: KubeClient;
let db: TestDatabase;
let teamA: Tenant;
let teamB: Tenant;
let app: Service;
let sync: MlflowModelSync;
let trained: RegisteredModel;

interface Asset {
  name: string;
  namespace: string;
  type: string;
  location: string;
  description: string;
  tags: string[];
  versions?: Array<{
    version: string;
    aliases: string[];
    runId?: string;
    experimentId?: string;
    experimentName?: string;
    lineageNode?: string;
  }>;
}

async function get(tenant: Tenant, url: string, query: Record<string, string> = {}) {
  const response = await app.inject({
    method: "GET",
    url,
    query,
    headers: { authorization: `Bearer ${tenant.token}` },
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

const models = async (tenant: Tenant, query: Record<string, string> = {}) => {
  const answer = await get(tenant, "/darwin-catalog/v1/assets", { type: "model", ...query });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  // The shared MLflow holds other tests' models; only this file's count.
  return (answer.body.assets as Asset[]).filter((a) => a.name.endsWith(RUN));
};

beforeAll(async () => {
  client = tb.client;
  db = await createTestDatabase("catalog_mlflow_it");
  tb.defer(() => db.drop());
  await migrate(db.pool, "catalog", CATALOG_MIGRATIONS);
  teamA = await grantTenant(client, tb.namespace, GRANT);
  teamB = await grantTenant(client, await tb.createNamespace("catalog-mlflow-b"), GRANT);
  app = await buildCatalogService({
    pool: db.pool,
    auth: new KubeAuth({ client }),
    logger: testLogger(),
    registry: new Registry(),
  });
  tb.defer(() => app.close());
  sync = new MlflowModelSync({
    pool: db.pool,
    client: new MlflowClient(mlflowURL()),
    log: testLogger(),
    intervalMs: 60_000,
  });
  tb.defer(async () => {
    for (const name of [MODEL, RENAMED]) await deleteModel(name).catch(() => undefined);
  });
  trained = await trainIris(MODEL, "champion", { namespace: teamA.namespace });
}, 300_000);

describe("MLflow's registered models in the catalog", () => {
  it("registers a model in the tenant its tag names, with versions, alias, run, experiment and lineage", async () => {
    const pass = await sync.syncOnce();
    expect(pass.registered).toBeGreaterThanOrEqual(1);

    const [found] = await models(teamA, { q: MODEL });
    expect(found).toMatchObject({
      namespace: teamA.namespace,
      name: `mlflow:${MODEL}`,
      type: "model",
      location: `models:/${MODEL}`,
      tags: ["mlflow", "alias=champion"],
    });
    expect(found?.description).toContain("aliases champion -> version 1");
    expect(found?.versions).toEqual([
      {
        version: "1",
        status: "READY",
        aliases: ["champion"],
        source: expect.stringMatching(/^models:\//),
        runId: trained.run_id,
        experimentId: trained.experiment_id,
        experimentName: `${MODEL}-training`,
        createdAt: expect.any(String),
        lineageNode: `dataset:mlflow:models/${MODEL}/1`,
      },
    ]);
    expect(await models(teamA, { tag: "alias=champion" })).toHaveLength(1);
    expect(await models(teamB)).toEqual([]);

    const lineage = await get(teamA, "/darwin-catalog/v1/lineage", {
      nodeId: `dataset:mlflow:models/${MODEL}/1`,
      depth: "2",
      namespace: teamA.namespace,
    });
    expect(lineage.status).toBe(200);
    const graph = lineage.body.graph as Array<{
      id: string;
      data: { facets: Record<string, Record<string, unknown>>; latestRun?: { state: string } };
      inEdges: Array<{ origin: string }>;
    }>;
    const job = `job:mlflow:runs/${trained.run_id}`;
    const iris = "dataset:https://archive.ics.uci.edu:dataset/53/iris";
    expect(graph.map((n) => n.id).sort()).toEqual([iris, `dataset:mlflow:models/${MODEL}/1`, job].sort());
    const version = graph.find((n) => n.id === `dataset:mlflow:models/${MODEL}/1`);
    expect(version?.inEdges.map((e) => e.origin)).toEqual([job]);
    const run = graph.find((n) => n.id === job);
    expect(run?.inEdges.map((e) => e.origin)).toEqual([iris]);
    expect(run?.data.latestRun?.state).toBe("COMPLETE");
    expect(run?.data.facets.mlflow_run).toMatchObject({
      runId: trained.run_id,
      experimentId: trained.experiment_id,
      experimentName: `${MODEL}-training`,
    });
  });

  it("writes nothing for a model that did not change", async () => {
    // The asset's row and the lineage of its version, with the times they were last written.
    const written = async () =>
      (
        await db.pool.query(
          `SELECT a.updated_at, (SELECT MAX(n.updated_at) FROM catalog_lineage_nodes n
             WHERE n.namespace = a.namespace AND n.name = ?) AS lineage_at
           FROM catalog_assets a WHERE a.name = ?`,
          [`models/${MODEL}/1`, `mlflow:${MODEL}`],
        )
      )[0];
    const before = await written();
    const pass = await sync.syncOnce();
    expect(pass.unchanged).toBeGreaterThanOrEqual(1);
    expect(await written()).toEqual(before);
  });

  it("follows a rename, a move to another tenant and a deletion in MLflow", async () => {
    await renameModel(MODEL, RENAMED);
    await sync.syncOnce();
    expect((await models(teamA)).map((a) => a.name)).toEqual([`mlflow:${RENAMED}`]);
    const renamed = (await models(teamA))[0];
    expect(renamed?.versions?.[0]).toMatchObject({ runId: trained.run_id, aliases: ["champion"] });

    await setModelTag(RENAMED, "darwin.namespace", teamB.namespace);
    await sync.syncOnce();
    expect(await models(teamA)).toEqual([]);
    expect((await models(teamB)).map((a) => a.name)).toEqual([`mlflow:${RENAMED}`]);

    await deleteModel(RENAMED);
    await sync.syncOnce();
    expect(await models(teamB)).toEqual([]);
    const gone = await get(
      teamB,
      `/darwin-catalog/v1/namespaces/${teamB.namespace}/assets/mlflow:${RENAMED}`,
    );
    expect(gone.status).toBe(404);
  });
});
