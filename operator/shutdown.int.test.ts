// @testbed control
/** Against the testbed apiserver: a graceful stop waits for the reconcile in flight to finish its writes. */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import type { KubeClient } from "./kube-client.ts";
import { createMirrorController, isMirrored } from "./testing/mirror-controller.ts";
import {
  CHRONOS,
  chronosTransformer,
  createObject,
  getObject,
  recordRequests,
  startManager,
  testConfig,
  waitFor,
} from "./testing/testbed.ts";

let client: KubeClient;
let namespace: string;

const tb = useTestbed({ namespace: "op-shutdown", cleanup: [CHRONOS] });

beforeAll(() => {
  client = tb.client;
  namespace = tb.namespace;
});

describe("graceful shutdown", () => {
  it("drains the reconcile in flight before stopping", async () => {
    let entered = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const controller = createMirrorController({
      finalize: false,
      onReconcile: async () => {
        entered = true;
        await gate;
      },
    });
    const operator = await startManager([controller], testConfig(namespace, { shutdownTimeoutSeconds: 30 }));
    const requests = recordRequests(operator.client);
    await createObject(client, CHRONOS, chronosTransformer(namespace, "slow"));
    await waitFor("reconcile in flight", () => entered);

    let stoppedAt = 0;
    const stopping = operator.stop().then(() => {
      stoppedAt = performance.now();
    });
    // The stop is waiting on the reconcile: release it only once the stop has begun.
    await waitFor("queue shut down", () => operator.manager.controllers[0]?.queue.isShuttingDown);
    release();
    await stopping;

    const statusWrite = requests.records.find((r) => r.method === "PATCH" && r.path.endsWith("/slow/status"));
    expect(statusWrite?.code).toBe(200);
    const object = await getObject(client, CHRONOS, namespace, "slow");
    expect(object && isMirrored(object)).toBe(true);
    expect(stoppedAt).toBeGreaterThan(0);
  });
});
