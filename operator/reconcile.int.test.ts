// @testbed control
/**
 * Against the testbed apiserver: a converged resource costs no writes when reconciled again, status is
 * written exactly once per real change, and a write conflict (409) is retried until it converges.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import type { KubeClient, RequestRecord } from "./kube-client.ts";
import { objectKey } from "./resource.ts";
import { createMirrorController, waitMirrored } from "./testing/mirror-controller.ts";
import {
  CHRONOS,
  CONFIG_MAPS,
  chronosTransformer,
  createObject,
  getObject,
  idle,
  mergePatch,
  reconcileCount,
  recordRequests,
  settled,
  type TestManager,
  waitFor,
} from "./testing/testbed.ts";

let client: KubeClient;
let namespace: string;
let operator: TestManager;
let requests: ReturnType<typeof recordRequests>;
/** Set by the conflict test: a second writer that changes the object under the reconcile's feet once. */
let interfere: ((name: string) => Promise<void>) | undefined;

const statusWrites = (records: RequestRecord[], name: string) =>
  records.filter((r) => r.method === "PATCH" && r.path.endsWith(`/chronostransformers/${name}/status`));
const successful = (records: RequestRecord[]) => records.filter((r) => r.code >= 200 && r.code < 300);

const tb = useTestbed({ namespace: "op-reconcile", cleanup: [CHRONOS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  const controller = createMirrorController({
    onReconcile: async (ctx) => {
      if (interfere) await interfere(ctx.object.metadata.name);
    },
  });
  operator = await tb.startOperator([controller]);
  requests = recordRequests(operator.client);
});

describe("reconcile writes", () => {
  it("makes zero writes reconciling an unchanged resource, and writes status once per real change", async () => {
    const name = "steady";
    await createObject(client, CHRONOS, chronosTransformer(namespace, name, "source-a"));
    await waitMirrored(client, namespace, name);
    await waitFor("mirror ConfigMap", () => getObject(client, CONFIG_MAPS, namespace, `${name}-mirror`));
    await settled(operator, CONFIG_MAPS, namespace, `${name}-mirror`);
    await settled(operator, CHRONOS, namespace, name);

    // Creation: finalizer, ConfigMap, status; one of each.
    const creation = successful(requests.writes());
    expect(statusWrites(creation, name)).toHaveLength(1);
    expect(creation.filter((r) => r.path.endsWith(`/configmaps/${name}-mirror`))).toHaveLength(1);
    expect(creation).toHaveLength(3);

    // 1. Reconcile again with nothing changed: no request but reads from the cache.
    let before = requests.records.length;
    let count = await reconcileCount(operator.metrics);
    operator.manager.enqueue("mirror", objectKey({ namespace, name }));
    await waitFor(
      "reconcile",
      async () => (await reconcileCount(operator.metrics)) > count && idle(operator.manager),
    );
    expect(requests.records.slice(before)).toEqual([]);

    // 2. A change that is not ours to act on (an annotation) wakes the reconcile; still zero writes.
    before = requests.records.length;
    count = await reconcileCount(operator.metrics);
    await mergePatch(client, CHRONOS, namespace, name, { metadata: { annotations: { note: "hello" } } });
    await settled(operator, CHRONOS, namespace, name);
    expect(await reconcileCount(operator.metrics)).toBeGreaterThan(count);
    expect(requests.records.slice(before).filter((r) => r.method !== "GET")).toEqual([]);

    // 3. A real change (spec, generation 2): exactly one ConfigMap apply and one status write.
    before = requests.records.length;
    await mergePatch(client, CHRONOS, namespace, name, { spec: { source: "source-b" } });
    const changed = await waitMirrored(client, namespace, name);
    expect(changed.metadata.generation).toBe(2);
    await settled(operator, CONFIG_MAPS, namespace, `${name}-mirror`);
    await settled(operator, CHRONOS, namespace, name);
    const afterChange = requests.records.slice(before);
    expect(statusWrites(afterChange, name)).toHaveLength(1);
    expect(afterChange.filter((r) => r.method !== "GET")).toHaveLength(2);
    const mirror = await getObject(client, CONFIG_MAPS, namespace, `${name}-mirror`);
    expect(mirror?.data).toMatchObject({ source: "source-b" });

    // 4. And reconciling the new state again is free once more.
    before = requests.records.length;
    count = await reconcileCount(operator.metrics);
    operator.manager.enqueue("mirror", objectKey({ namespace, name }));
    await waitFor(
      "reconcile",
      async () => (await reconcileCount(operator.metrics)) > count && idle(operator.manager),
    );
    expect(requests.records.slice(before)).toEqual([]);
  });

  it("retries a status write that hit a conflict (409) and converges, keeping the other writer's field", async () => {
    const name = "contended";
    let interfered = false;
    interfere = async (reconciling) => {
      if (reconciling !== name || interfered) return;
      interfered = true;
      // Another controller (the chronos processor) writes its counters between our read and our write.
      await mergePatch(client, CHRONOS, namespace, name, { status: { processed: 7 } }, "status");
    };
    const before = requests.records.length;
    await createObject(client, CHRONOS, chronosTransformer(namespace, name));
    const object = await waitMirrored(client, namespace, name);
    interfere = undefined;

    const conflicts = statusWrites(requests.records.slice(before), name).filter((r) => r.code === 409);
    expect(interfered).toBe(true);
    expect(conflicts.length).toBeGreaterThanOrEqual(1);
    expect(object.status).toMatchObject({ processed: 7, observedGeneration: 1 });
    const text = await operator.metrics.registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_errors_total\{controller="mirror"\} [1-9]/);
    expect(text).toMatch(/rest_client_requests_total\{code="409",method="PATCH"/);
  });
});
