// @testbed control
/**
 * Against the testbed: the operator's watches survive a kill -9 and restart of the apiserver. Changes made
 * just before the kill, during the outage (written straight into etcd, since nothing else can write then)
 * and right after the restart are all reconciled. The restarted apiserver's watch cache starts after the
 * informers' last resourceVersion, so it answers their resumed watches with 410 Gone: the informers relist,
 * and an object deleted during the outage (which no watch event will ever report) is noticed too.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import type { InformerEvent } from "./informer.ts";
import type { KubeClient } from "./kube-client.ts";
import { type KubeObject, objectKey } from "./resource.ts";
import { etcdDelete, etcdGetJson, etcdPutJson, storageKey } from "./testing/etcd.ts";
import { createMirrorController, isMirrored } from "./testing/mirror-controller.ts";
import {
  CHRONOS,
  CONFIG_MAPS,
  chronosTransformer,
  createObject,
  getObject,
  mergePatch,
  metricValue,
  type TestManager,
  testbed,
  testbedClient,
  waitFor,
} from "./testing/testbed.ts";

let client: KubeClient;
let namespace: string;
let operator: TestManager;
const events: InformerEvent[] = [];
const gone = { before: 0 };

async function mirroredWith(name: string, source: string, generation: number): Promise<KubeObject> {
  return waitFor(
    `${name} reconciled at generation ${generation} with source ${source}`,
    async () => {
      const object = await getObject(client, CHRONOS, namespace, name);
      const mirror = await getObject(client, CONFIG_MAPS, namespace, `${name}-mirror`);
      const ok =
        object &&
        isMirrored(object) &&
        object.metadata.generation === generation &&
        (mirror?.data as Record<string, string> | undefined)?.source === source;
      return ok ? object : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
}

const tb = useTestbed({ namespace: "op-restart", cleanup: [CHRONOS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  // Objects for the outage: one deleted through etcd, so without the finalizer path.
  operator = await tb.startOperator([createMirrorController({ finalize: false })]);
  for (const name of ["changed-before-kill", "edited-in-outage", "deleted-in-outage"]) {
    await createObject(client, CHRONOS, chronosTransformer(namespace, name, "v1"));
    await mirroredWith(name, "v1", 1);
  }
  const informer = operator.manager.informer(CHRONOS, namespace);
  informer?.on((event) => events.push(event));
  gone.before = informer?.stats.gone ?? 0;

  // A change that may or may not be delivered before the apiserver dies.
  await mergePatch(client, CHRONOS, namespace, "changed-before-kill", { spec: { source: "v2" } });
  testbed("kill", "kube_apiserver");
  try {
    // During the outage: edit one object and delete another, straight in etcd.
    const editedKey = storageKey(CHRONOS, namespace, "edited-in-outage");
    const edited = await etcdGetJson(editedKey);
    if (!edited) throw new Error(`no ${editedKey} in etcd`);
    const metadata = edited.metadata as { generation: number };
    await etcdPutJson(editedKey, {
      ...edited,
      metadata: { ...metadata, generation: metadata.generation + 1 },
      spec: { ...(edited.spec as object), source: "v2-from-etcd" },
    });
    await etcdDelete(storageKey(CHRONOS, namespace, "deleted-in-outage"));
  } finally {
    testbed("up", "control");
  }
  // The admin client's connections died with the apiserver: a new client (closed at teardown).
  client = testbedClient();
  tb.defer(() => client.close());
  // Right after the restart: a new object.
  await createObject(client, CHRONOS, chronosTransformer(namespace, "created-after-restart", "v1"));
}, 300_000);

describe("apiserver restart", () => {
  it("reconciles changes made before the kill, during the outage and after the restart", async () => {
    await mirroredWith("changed-before-kill", "v2", 2);
    await mirroredWith("edited-in-outage", "v2-from-etcd", 2);
    await mirroredWith("created-after-restart", "v1", 1);
    const text = await operator.metrics.registry.metrics();
    expect(
      metricValue(text, "darwin_informer_watch_restarts_total", {
        resource: "chronostransformers.darwin.dreamhorizon.org",
      }),
    ).toBeGreaterThan(0);
  });

  it("relisted after 410 Gone and lost no object: the delete made during the outage was seen", async () => {
    const informer = operator.manager.informer(CHRONOS, namespace);
    await waitFor(
      "deleted-in-outage gone from the cache",
      () => informer?.get(namespace, "deleted-in-outage") === undefined,
    );
    expect((informer?.stats.gone ?? 0) - gone.before).toBeGreaterThanOrEqual(1);
    const deleted = events.filter((e) => e.type === "deleted").map((e) => objectKey(e.object.metadata));
    expect(deleted).toContain(`${namespace}/deleted-in-outage`);
    // The cache equals the server's list: nothing lost, nothing left over.
    const list = (await client.request({
      method: "GET",
      path: `/apis/${CHRONOS.apiVersion}/namespaces/${namespace}/${CHRONOS.plural}`,
    })) as {
      items: KubeObject[];
    };
    await waitFor("cache equal to the server's list", () => {
      const cached = new Map(
        (informer?.list(namespace) ?? []).map((o) => [o.metadata.name, o.metadata.resourceVersion]),
      );
      return (
        list.items.every(
          (o) => Number(cached.get(o.metadata.name) ?? 0) >= Number(o.metadata.resourceVersion),
        ) && cached.size === list.items.length
      );
    });
  });
});
