// @testbed cluster data
/**
 * Platform objects as Chronos and the catalog see them, with nothing written by the user but the objects:
 * the operator's controllers wrapped as cmd/controllers.ts wraps them (lifecycle events to Chronos, catalog
 * registration) run a FeatureGroup (then its version 2), a Serve of an iris model registered in the real
 * MLflow that reads the group, and a DarwinCluster. Chronos's API and processor with the sample
 * transformers give the serve's lineage (model version, model, the MLflow run and experiment that
 * produced it, feature group) and the group's (its versions); the catalog's search finds the group's table with its columns, its topic, the serve and the
 * cluster, and stops finding them once they are deleted.
 */
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { CATALOG_ASSETS, createCatalogAssetController } from "../../controllers/catalog-asset/reconciler.ts";
import { withCatalogRegistration } from "../../controllers/catalog-asset/registration.ts";
import {
  darwinClusterAssets,
  featureGroupAssets,
  serveAssets,
} from "../../controllers/catalog-asset/render/platform-assets.ts";
import {
  createDarwinClusterController,
  DARWIN_CLUSTERS,
} from "../../controllers/darwin-cluster/reconciler.ts";
import { createFeatureGroupController, FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { servingConfig } from "../../controllers/serve/config.ts";
import { createServeController, SERVES } from "../../controllers/serve/reconciler.ts";
import { mlflowURL, type RegisteredModel, trainIris } from "../../controllers/serve/testing/mlflow.ts";
import { mariadbCatalogIndex } from "../../dataplane/catalog/index.ts";
import { CATALOG_MIGRATIONS } from "../../dataplane/catalog/migrations.ts";
import { buildCatalogService } from "../../dataplane/catalog/service.ts";
import {
  darwinClusterEvents,
  featureGroupEvents,
  serveEvents,
  withLifecycleEvents,
} from "../../dataplane/chronos/lifecycle.ts";
import { chronosSinkFromEnv } from "../../dataplane/chronos/sink.ts";
import { migrate } from "../../dataplane/shared/mysql.ts";
import { startChronos, type TestChronos } from "../../dataplane/testing/chronos.ts";
import { sampleObject } from "../../dataplane/testing/samples.ts";
import { createTestDatabase, grantTenant, type Tenant } from "../../dataplane/testing/testbed.ts";
import { KubeAuth, type Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  CHRONOS,
  createObject,
  getObject,
  mergePatch,
  testLogger,
  waitFor,
} from "../../operator/testing/testbed.ts";
import {
  dropTestStores,
  sampleFeatureGroup,
  testStoreConfig,
  waitForReady,
} from "../support/feature-store.ts";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `events-it-${RUN}`;
const RUNTIME = `events-it-ray-${RUN}`;
const MODEL = `iris-events-${RUN}`;
const SLOW = { timeoutMs: 180_000, intervalMs: 500 };

const tb = useTestbed({
  namespace: "events-platform",
  cleanup: [SERVES, FEATURE_GROUPS, DARWIN_CLUSTERS, CATALOG_ASSETS],
});
let client: KubeClient;
let tenant: Tenant;
let chronos: TestChronos;
let catalog: Service;
let model: RegisteredModel;

async function chronosGet(path: string) {
  const response = await chronos.app.inject({
    method: "GET",
    url: `/chronos/api/v1/namespaces/${tenant.namespace}/${path}`,
    headers: { authorization: `Bearer ${tenant.token}` },
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

interface Lineage {
  nodes: Array<{ type: string; id: string; attributes: Record<string, unknown>; distance: number }>;
  edges: Array<{ type: string; from: { type: string; id: string }; to: { type: string; id: string } }>;
}

const lineageOf = async (entity: string, direction: string, depth: number) =>
  (await chronosGet(`entities/${entity}/lineage?direction=${direction}&depth=${depth}`))
    .body as unknown as Lineage;

const nodesOf = (graph: Lineage) => graph.nodes.map((n) => `${n.type}/${n.id}`).sort();
const edgesOf = (graph: Lineage) =>
  graph.edges.map((e) => `${e.from.type}/${e.from.id} ${e.type} ${e.to.type}/${e.to.id}`).sort();

async function search(query: Record<string, string>) {
  const response = await catalog.inject({
    method: "GET",
    url: "/darwin-catalog/v1/assets",
    query,
    headers: { authorization: `Bearer ${tenant.token}` },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as {
    assets: Array<{
      name: string;
      type: string;
      location: string;
      description: string;
      owner: string;
      schema: Array<{ name: string }>;
    }>;
  };
}

const searchNames = async (query: Record<string, string>) =>
  (await search(query)).assets.map((a) => a.name).sort();

beforeAll(async () => {
  client = tb.client;
  const training = trainIris(MODEL, "champion");
  tenant = await grantTenant(client, tb.namespace, {
    resources: ["chronosevents", "catalogassets"],
    verbs: ["get", "list"],
  });
  tb.defer(() => dropTestStores(tenant.namespace));
  chronos = await startChronos(client, tenant.namespace);
  tb.defer(() => chronos.stop());
  for (const rule of ["feature-group-lifecycle", "serve-lifecycle"]) {
    const sample = sampleObject("chronostransformer", rule);
    await createObject(client, CHRONOS, {
      ...sample,
      metadata: { ...sample.metadata, namespace: tenant.namespace },
    });
  }
  const sink = chronosSinkFromEnv(testLogger(), client, { DARWIN_CHRONOS_URL: chronos.url });
  if (!sink) throw new Error("no sink");
  tb.defer(() => sink.close());

  const catalogDb = await createTestDatabase("events_catalog_it");
  tb.defer(() => catalogDb.drop());
  await migrate(catalogDb.pool, "catalog", CATALOG_MIGRATIONS);
  catalog = await buildCatalogService({
    pool: catalogDb.pool,
    auth: new KubeAuth({ client }),
    logger: testLogger(),
    registry: new Registry(),
  });
  tb.defer(() => catalog.close());

  tb.defer(async () => {
    await kubectl(["delete", "serveenvironment", ENV, "--ignore-not-found", "--wait=false"]);
    await kubectl(["delete", "darwinruntime", RUNTIME, "--ignore-not-found", "--wait=false"]);
  });
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "ServeEnvironment",
    metadata: { name: ENV },
    spec: {
      domainSuffix: ".local",
      clusterName: "kind",
      namespace: tenant.namespace,
      ingressClassName: "nginx",
    },
  });
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "DarwinRuntime",
    metadata: { name: RUNTIME },
    spec: {
      displayName: RUNTIME,
      rayVersion: "2.37.0",
      pythonVersion: "3.10",
      image: "rayproject/ray:2.37.0-py310",
    },
  });

  const featureGroups = createFeatureGroupController({ stores: testStoreConfig(), recheckAfterMs: 2000 });
  tb.defer(() => featureGroups.close());
  const serving = servingConfig.parse({
    mlflowTrackingURI: mlflowURL(),
    modelCheckIntervalSeconds: 2,
    rolloutDeadlineSeconds: 60,
  });
  // As cmd/controllers.ts wires them.
  await tb.startOperator(
    [
      withCatalogRegistration(
        withLifecycleEvents(featureGroups, sink, featureGroupEvents),
        featureGroupAssets,
      ),
      withCatalogRegistration(
        withLifecycleEvents(createServeController({ serving }), sink, serveEvents),
        serveAssets,
      ),
      withCatalogRegistration(
        withLifecycleEvents(createDarwinClusterController(), sink, darwinClusterEvents),
        darwinClusterAssets,
      ),
      createCatalogAssetController({ index: mariadbCatalogIndex({ pool: catalogDb.pool }) }),
    ],
    { queue: { baseBackoffMs: 50, maxBackoffSeconds: 2 } },
  );
  // While the operator runs, so finalizers let the objects and the namespace go.
  tb.beforeStop(async () => {
    for (const kind of ["serves", "featuregroups", "darwinclusters", "catalogassets"])
      await kubectl(["delete", kind, "--all", "-n", tenant.namespace, "--timeout=60s"]);
  });
  model = await training;
}, 300_000);

describe("platform objects in Chronos and the catalog", () => {
  it("give the serve's lineage (model version, its run and experiment, feature group) and the group's versions, from lifecycle events alone", {
    timeout: 400_000,
  }, async () => {
    const ns = tenant.namespace;
    await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(ns));
    await waitForReady(client, ns, "user-features");
    await createObject(client, SERVES, {
      apiVersion: SERVES.apiVersion,
      kind: SERVES.kind,
      metadata: { name: "iris-classifier", namespace: ns },
      spec: {
        environment: ENV,
        type: "api",
        model: { uri: `models:/${MODEL}@champion` },
        features: [{ featureGroup: "user-features" }],
      },
    });
    await waitFor(
      "the serve Ready",
      async () =>
        ((await getObject(client, SERVES, ns, "iris-classifier"))?.status as { phase?: string })?.phase ===
        "Ready",
      SLOW,
    );

    const upstream = await waitFor(
      "the serve's upstream lineage with its model version, run, experiment and feature group",
      async () => {
        const graph = await lineageOf("serve/iris-classifier", "upstream", 3);
        return nodesOf(graph).length === 6 && graph;
      },
      SLOW,
    );
    const version = `${MODEL}/${model.version}`;
    const experiment = upstream.nodes.find((n) => n.type === "experiment");
    expect(experiment?.attributes).toEqual({ name: `${MODEL}-training` });
    const experimentNode = `experiment/${experiment?.id}`;
    expect(nodesOf(upstream)).toEqual(
      [
        experimentNode,
        `feature_group/user-features`,
        `model/${MODEL}`,
        `model_version/${version}`,
        `run/${model.run_id}`,
        "serve/iris-classifier",
      ].sort(),
    );
    expect(edgesOf(upstream)).toEqual(
      [
        `${experimentNode} has_run run/${model.run_id}`,
        `feature_group/user-features feeds serve/iris-classifier`,
        `model/${MODEL} has_version model_version/${version}`,
        `model_version/${version} deployed_to serve/iris-classifier`,
        `run/${model.run_id} produced model_version/${version}`,
      ].sort(),
    );
    const modelVersion = upstream.nodes.find((n) => n.type === "model_version");
    expect(modelVersion?.attributes).toMatchObject({
      name: MODEL,
      version: model.version,
      run: model.run_id,
    });
    const serve = await waitFor(
      "the serve entity Ready",
      async () => {
        const entity = await chronosGet("entities/serve/iris-classifier");
        return (entity.body.attributes as { phase?: string } | undefined)?.phase === "Ready" && entity.body;
      },
      SLOW,
    );
    expect(serve.attributes).toMatchObject({ modelVersion: model.version, lastEvent: "serve_ready" });

    // Version 2 of the group: a new table beside version 1, both served.
    await mergePatch(client, FEATURE_GROUPS, ns, "user-features", { spec: { version: 2 } });
    const downstream = await waitFor(
      "the group's lineage with both versions",
      async () => {
        const graph = await lineageOf("feature_group/user-features", "downstream", 1);
        return nodesOf(graph).includes("feature_group_version/user-features:v2") && graph;
      },
      SLOW,
    );
    expect(nodesOf(downstream)).toEqual([
      "feature_group/user-features",
      "feature_group_version/user-features:v1",
      "feature_group_version/user-features:v2",
      "serve/iris-classifier",
    ]);
    const audit = await chronosGet("entities/feature_group/user-features/events");
    const types = (audit.body.events as Array<{ type: string }>).map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(["feature_group_created", "feature_group_ready"]);
    expect(types).toContain("feature_group_version_changed");

    // The catalog: the group's table of version 2 with its columns, its topic, and the serve, registered
    // without a hand-written asset.
    const table = await waitFor(
      "the group's version 2 table in the catalog",
      async () =>
        (await search({ type: "feature-group" })).assets.find(
          (a) => a.name === "featuregroup-user-features" && a.location.endsWith("_v2"),
        ),
      SLOW,
    );
    expect(table.location).toMatch(/^cassandra:\/\//);
    expect(table.schema.map((f) => f.name)).toEqual(["user_id", "age", "tenure", "activity_score"]);
    expect(await searchNames({ type: "stream" })).toEqual(["featuregroup-user-features-topic"]);
    await waitFor(
      "the serve in the catalog with its resolved model",
      async () =>
        (await search({ type: "model-deployment" })).assets.find((a) =>
          a.description.includes(`version ${model.version}`),
        ),
      SLOW,
    );

    // Deleted: the serve's entity says so, and the catalog no longer finds it.
    await kubectlOk(["delete", "serve", "iris-classifier", "-n", ns, "--timeout=60s"]);
    await waitFor(
      "the serve entity marked deleted",
      async () =>
        ((await chronosGet("entities/serve/iris-classifier")).body.attributes as { deleted?: boolean })
          ?.deleted === true,
      SLOW,
    );
    await waitFor(
      "the serve gone from the catalog",
      async () => (await search({ type: "model-deployment" })).assets.length === 0,
      SLOW,
    );
    await kubectlOk(["delete", "featuregroup", "user-features", "-n", ns, "--timeout=60s"]);
    await waitFor(
      "the group's assets gone from the catalog",
      async () => (await searchNames({ tag: "feature-group" })).length === 0,
      SLOW,
    );
    await waitFor(
      "the group's entity marked deleted",
      async () => {
        const entity = await chronosGet("entities/feature_group/user-features");
        const attributes = entity.body.attributes as { lastEvent?: string; deleted?: boolean } | undefined;
        return attributes?.lastEvent === "feature_group_deleted" && attributes.deleted === true;
      },
      SLOW,
    );
  });

  it("registers a DarwinCluster as a compute cluster of its owner, removed when the cluster is deleted", {
    timeout: 200_000,
  }, async () => {
    const ns = tenant.namespace;
    await createObject(client, DARWIN_CLUSTERS, {
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: DARWIN_CLUSTERS.kind,
      metadata: { name: "housing-project", namespace: ns },
      spec: {
        runtime: RUNTIME,
        owner: "ana@example.com",
        tags: ["housing"],
        head: { cores: 1, memory: "2Gi" },
        workerGroups: [{ name: "spot", cores: 2, memory: 4, minPods: 1, maxPods: 1, capacity: "spot" }],
      },
    });
    const found = await waitFor(
      "the cluster in the catalog",
      async () => (await search({ type: "compute-cluster", tag: "housing" })).assets[0],
      SLOW,
    );
    expect(found).toMatchObject({ name: "darwincluster-housing-project", owner: "ana@example.com" });
    const asset = await getObject(client, CATALOG_ASSETS, ns, "darwincluster-housing-project");
    expect(asset?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "DarwinCluster", name: "housing-project", controller: true }),
    ]);
    await kubectlOk(["delete", "darwincluster", "housing-project", "-n", ns, "--timeout=60s"]);
    await waitFor(
      "the cluster gone from the catalog",
      async () => (await search({ type: "compute-cluster" })).assets.length === 0,
      SLOW,
    );
  });
});
