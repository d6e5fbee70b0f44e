// @testbed cluster data
import { beforeAll, describe, expect, it } from "vitest";
import {
  createDarwinClusterController,
  DARWIN_CLUSTERS,
} from "../../controllers/darwin-cluster/reconciler.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import {
  CHRONOS,
  createObject,
  getObject,
  mergePatch,
  testLogger,
  waitFor,
} from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { startChronos, type TestChronos } from "../testing/chronos.ts";
import { sampleObject } from "../testing/samples.ts";
import { grantTenant, type Tenant } from "../testing/testbed.ts";
import { darwinClusterEvents, withLifecycleEvents } from "./lifecycle.ts";
import { chronosSinkFromEnv } from "./sink.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME = `chronos-it-ray-${RUN}`;
const SLOW = { timeoutMs: 120_000, intervalMs: 250 };

const tb = useTestbed({ namespace: "chronos-life", cleanup: [DARWIN_CLUSTERS] });
let client: KubeClient;
let tenant: Tenant;
let chronos: TestChronos;

async function read(path: string) {
  const response = await chronos.app.inject({
    method: "GET",
    url: `/chronos/api/v1/namespaces/${tenant.namespace}/${path}`,
    headers: { authorization: `Bearer ${tenant.token}` },
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

beforeAll(async () => {
  client = tb.client;
  tenant = await grantTenant(client, tb.namespace, {
    resources: ["chronosevents"],
    verbs: ["get", "list"],
  });
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: "DarwinRuntime",
    metadata: { name: RUNTIME },
    spec: {
      displayName: RUNTIME,
      rayVersion: "2.37.0",
      pythonVersion: "3.10",
      image: "rayproject/ray:2.37.0-py310",
    },
  });
  tb.defer(() => kubectl(["delete", "darwinruntime", RUNTIME, "--ignore-not-found", "--wait=false"]));
  chronos = await startChronos(client, tenant.namespace);
  tb.defer(() => chronos.stop());
  const sample = sampleObject("chronostransformer", "cluster-lifecycle");
  await createObject(client, CHRONOS, {
    ...sample,
    metadata: { ...sample.metadata, namespace: tenant.namespace },
  });
  // The operator posts with its client's credentials (the testbed kubeconfig's user), as it does under hack/up.
  const sink = chronosSinkFromEnv(testLogger(), client, { DARWIN_CHRONOS_URL: chronos.url });
  if (!sink) throw new Error("no sink");
  tb.defer(() => sink.close());
  await tb.startOperator([withLifecycleEvents(createDarwinClusterController(), sink, darwinClusterEvents)]);
});

describe("cluster lifecycle through Chronos", () => {
  it("gives the cluster and user entities, owns, and the created and stopped events", {
    timeout: 300_000,
  }, async () => {
    const name = "housing-project";
    await createObject(client, DARWIN_CLUSTERS, {
      apiVersion: DARWIN_CLUSTERS.apiVersion,
      kind: DARWIN_CLUSTERS.kind,
      metadata: { name, namespace: tenant.namespace },
      spec: {
        runtime: RUNTIME,
        owner: "ana@example.com",
        head: { cores: 1, memory: "2Gi" },
        workerGroups: [{ name: "spot", cores: 2, memory: 4, minPods: 1, maxPods: 1, capacity: "spot" }],
      },
    });
    const phase = async () =>
      ((await getObject(client, DARWIN_CLUSTERS, tenant.namespace, name))?.status as { phase?: string })
        ?.phase;
    await waitFor("the cluster Ready", async () => (await phase()) === "Ready", SLOW);
    await mergePatch(client, DARWIN_CLUSTERS, tenant.namespace, name, { spec: { suspend: true } });
    await waitFor("the cluster Suspended", async () => (await phase()) === "Suspended", SLOW);

    const cluster = await waitFor(
      "the cluster entity in phase Suspended",
      async () => {
        const entity = await read(`entities/cluster/${name}`);
        return (
          (entity.body.attributes as { phase?: string } | undefined)?.phase === "Suspended" && entity.body
        );
      },
      SLOW,
    );
    expect(cluster).toMatchObject({
      type: "cluster",
      id: name,
      attributes: { lastEvent: "cluster_stopped" },
    });
    expect((await read("entities/user/ana@example.com")).status).toBe(200);
    const relationships = await read(`entities/user/${encodeURIComponent("ana@example.com")}/relationships`);
    expect(relationships.body.relationships).toEqual([
      expect.objectContaining({
        type: "owns",
        from: { type: "user", id: "ana@example.com" },
        to: { type: "cluster", id: name },
      }),
    ]);
    const audit = await read(`entities/cluster/${name}/events`);
    const types = (audit.body.events as Array<{ type: string; source: string }>).map((e) => e.type);
    expect(types[0]).toBe("cluster_created");
    expect(types).toContain("cluster_ready");
    expect(types.at(-1)).toBe("cluster_stopped");
    const counted = await waitFor("the rule's status counting every event", async () => {
      const rule = await getObject(client, CHRONOS, tenant.namespace, "cluster-lifecycle");
      const status = rule?.status as { processed?: number; failed?: number } | undefined;
      return status?.processed === types.length && status;
    });
    expect(counted.failed).toBe(0);
  });
});
