// @testbed control
/**
 * Against the testbed apiserver: a resource with external cleanup is deleted only after its cleanup ran;
 * a failing cleanup keeps the finalizer and says why (condition and Event) until it succeeds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { findCondition } from "./conditions.ts";
import type { KubeClient } from "./kube-client.ts";
import { resourcePath } from "./resource.ts";
import { CLEANUP_FAIL, createMirrorController, waitMirrored } from "./testing/mirror-controller.ts";
import {
  CHRONOS,
  CONFIG_MAPS,
  chronosTransformer,
  createObject,
  eventsAbout,
  getObject,
  mergePatch,
  type TestManager,
  waitFor,
} from "./testing/testbed.ts";

const FINALIZER = "darwin.dreamhorizon.org/mirror";

let client: KubeClient;
let namespace: string;
let _operator: TestManager;

const remove = (name: string) =>
  client.request({ method: "DELETE", path: resourcePath(CHRONOS, namespace, name) });

const tb = useTestbed({ namespace: "op-finalizer", cleanup: [CHRONOS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  _operator = await tb.startOperator([createMirrorController()]);
});

describe("finalizers", () => {
  it("deletes a resource only after its external cleanup ran", async () => {
    const name = "tidy";
    await createObject(client, CHRONOS, chronosTransformer(namespace, name));
    const object = await waitMirrored(client, namespace, name);
    expect(object.metadata.finalizers).toContain(FINALIZER);
    expect(await getObject(client, CONFIG_MAPS, namespace, `${name}-cleanup-record`)).toBeUndefined();

    await remove(name);
    await waitFor("tidy gone", async () => (await getObject(client, CHRONOS, namespace, name)) === undefined);
    // The apiserver removes the object only when the finalizer is gone, and the operator removes the
    // finalizer only after the cleanup returned: so the cleanup's record exists, for this very object.
    const record = await getObject(client, CONFIG_MAPS, namespace, `${name}-cleanup-record`);
    expect(record?.data).toMatchObject({ uid: object.metadata.uid });
    const events = await waitFor("CleanedUp event", async () => {
      const found = (await eventsAbout(client, namespace, name)).filter((e) => e.reason === "CleanedUp");
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]?.type).toBe("Normal");
  });

  it("keeps the finalizer while cleanup fails, says why, and finishes once cleanup succeeds", async () => {
    const name = "stuck";
    const refusal = "catalog database is read-only";
    await createObject(
      client,
      CHRONOS,
      chronosTransformer(namespace, name, "s", { [CLEANUP_FAIL]: refusal }),
    );
    await waitMirrored(client, namespace, name);

    await remove(name);
    const reported = await waitFor("CleanupFailed condition", async () => {
      const object = await getObject(client, CHRONOS, namespace, name);
      const status = object?.status as { conditions?: Parameters<typeof findCondition>[0] } | undefined;
      return findCondition(status?.conditions, "Ready")?.reason === "CleanupFailed" ? object : undefined;
    });
    expect(reported.metadata.deletionTimestamp).toBeDefined();
    expect(reported.metadata.finalizers).toContain(FINALIZER);
    const ready = findCondition(
      (reported.status as { conditions?: Parameters<typeof findCondition>[0] }).conditions,
      "Ready",
    );
    expect(ready).toMatchObject({ status: "False" });
    expect(ready?.message).toContain(refusal);
    expect(ready?.message).toContain(FINALIZER);
    const warnings = await waitFor("CleanupFailed event", async () => {
      const found = (await eventsAbout(client, namespace, name)).filter(
        (e) => e.type === "Warning" && e.reason === "CleanupFailed",
      );
      return found.length > 0 ? found : undefined;
    });
    expect(warnings[0]?.note).toContain(refusal);
    expect(await getObject(client, CONFIG_MAPS, namespace, `${name}-cleanup-record`)).toBeUndefined();

    // Cleanup keeps being retried (with backoff); once the external store accepts it, deletion completes.
    await mergePatch(client, CHRONOS, namespace, name, {
      metadata: { annotations: { [CLEANUP_FAIL]: null } },
    });
    await waitFor(
      "stuck gone",
      async () => (await getObject(client, CHRONOS, namespace, name)) === undefined,
    );
    expect(await getObject(client, CONFIG_MAPS, namespace, `${name}-cleanup-record`)).toBeDefined();
  });
});
