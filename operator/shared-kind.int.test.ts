// @testbed control
/**
 * Two controllers in one manager share a kind: the mirror controller owns the ConfigMaps it applies, and a
 * second controller reconciles ConfigMaps. Every write of the first must wake the second (the shared cache
 * takes the write at once, and the watch event that follows is not announced again), while the writer
 * itself is not woken by its own write and a converged reconcile still writes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import type { ControllerDefinition } from "./controller.ts";
import type { KubeClient } from "./kube-client.ts";
import { objectKey } from "./resource.ts";
import { createMirrorController, waitMirrored } from "./testing/mirror-controller.ts";
import {
  CHRONOS,
  CONFIG_MAPS,
  chronosTransformer,
  createObject,
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
/** What the ConfigMap controller saw: `<name> <data.source>` per reconcile. */
const seen: string[] = [];

/** Reconciles ConfigMaps (every one of the namespace, not only those it wrote) and records them. */
const configMapReader: ControllerDefinition = {
  name: "configmap-reader",
  for: CONFIG_MAPS,
  async reconcile(ctx) {
    const data = (ctx.object.data ?? {}) as { source?: string };
    seen.push(`${ctx.object.metadata.name} ${data.source ?? ""}`);
    return undefined;
  },
};

const tb = useTestbed({ namespace: "op-shared-kind", cleanup: [CHRONOS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  operator = await tb.startOperator([createMirrorController(), configMapReader]);
  requests = recordRequests(operator.client);
});

describe("a kind one controller owns and another reconciles", () => {
  it("wakes the reconciling controller for every write of the owning one", async () => {
    const name = "shared";
    await createObject(client, CHRONOS, chronosTransformer(namespace, name, "source-a"));
    await waitMirrored(client, namespace, name);
    await waitFor("the reader reconciled the applied ConfigMap", () =>
      seen.includes(`${name}-mirror source-a`),
    );

    await mergePatch(client, CHRONOS, namespace, name, { spec: { source: "source-b" } });
    await waitMirrored(client, namespace, name);
    await waitFor("the reader reconciled the changed ConfigMap", () =>
      seen.includes(`${name}-mirror source-b`),
    );
  });

  it("still makes zero writes reconciling the converged owner again", async () => {
    const name = "shared";
    await settled(operator, CONFIG_MAPS, namespace, `${name}-mirror`);
    await settled(operator, CHRONOS, namespace, name);
    const before = requests.records.length;
    const count = await reconcileCount(operator.metrics);
    operator.manager.enqueue("mirror", objectKey({ namespace, name }));
    await waitFor(
      "reconcile",
      async () => (await reconcileCount(operator.metrics)) > count && idle(operator.manager),
    );
    expect(requests.records.slice(before)).toEqual([]);
  });
});
