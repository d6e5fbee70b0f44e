// @testbed control
/**
 * Against the testbed, with operators as separate processes: of two instances exactly one leads; when the
 * leader is killed with SIGKILL (no chance to release the Lease) the other takes over within the lease
 * duration (plus the polling period) and reconciles; a graceful stop releases the Lease; a leader that
 * loses its Lease stops reconciling and exits.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import type { KubeClient } from "./kube-client.ts";
import { waitMirrored } from "./testing/mirror-controller.ts";
import { OperatorProcess } from "./testing/operator-process.ts";
import { CHRONOS, chronosTransformer, createObject, metricValue, waitFor } from "./testing/testbed.ts";

const LEASE_SECONDS = 4;
const RETRY_SECONDS = 0.5;

let client: KubeClient;
let namespace: string;
let configFile: string;
const running: OperatorProcess[] = [];

function start(): OperatorProcess {
  const operator = OperatorProcess.start(configFile);
  running.push(operator);
  return operator;
}

async function lease() {
  const object = (await client.request({
    method: "GET",
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/darwin-operator-test`,
  })) as { metadata: Record<string, unknown>; spec: { holderIdentity?: string; leaseTransitions?: number } };
  return object;
}

const leading = async (operator: OperatorProcess) =>
  metricValue(await operator.metrics(), "leader_election_master_status", { name: "darwin-operator-test" });

const tb = useTestbed({ namespace: "op-leader", cleanup: [CHRONOS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  configFile = join(mkdtempSync(join(tmpdir(), "darwin-operator-")), "operator.yaml");
  writeFileSync(
    configFile,
    JSON.stringify({
      namespaces: [namespace],
      workers: 2,
      logLevel: "info",
      shutdownTimeoutSeconds: 5,
      http: { host: "127.0.0.1", port: 0 },
      watch: { maxBackoffSeconds: 1 },
      leaderElection: {
        namespace,
        leaseName: "darwin-operator-test",
        leaseDurationSeconds: LEASE_SECONDS,
        renewDeadlineSeconds: 3,
        retryPeriodSeconds: RETRY_SECONDS,
      },
    }),
  );
});

afterEach(async ({ task }) => {
  for (const operator of running.splice(0)) {
    if (task.result?.state === "fail")
      process.stderr.write(`--- operator ${operator.pid}\n${operator.dump()}\n`);
    operator.kill("SIGKILL");
    await operator.exited;
  }
});

describe("leader election", () => {
  it("lets exactly one of two instances lead; after kill -9 of the leader the other takes over and reconciles", async () => {
    const first = start();
    await first.waitForLog("Acquired leadership");
    const second = start();
    await second.waitForLog("Started leader election");
    await second.waitForLog("Synced caches");
    const [a, b] = [await first.endpoint(), await second.endpoint()];

    // Exactly one leads: the Lease names the first, the metrics agree, only the first started its controller.
    expect((await lease()).spec.holderIdentity).toBe(a.identity);
    expect(await leading(first)).toBe(1);
    expect(await leading(second)).toBe(0);
    await createObject(client, CHRONOS, chronosTransformer(namespace, "before-failover"));
    await waitMirrored(client, namespace, "before-failover");
    expect(first.hasLogged("Started controller")).toBe(true);
    expect(second.hasLogged("Started controller")).toBe(false);
    expect(second.hasLogged("Reconciled ChronosTransformer")).toBe(false);

    // kill -9: no release, the Lease must expire.
    const killedAt = Date.now();
    first.kill("SIGKILL");
    await first.exited;
    await second.waitForLog("Acquired leadership", 30_000);
    const tookOverAfterMs = Date.now() - killedAt;
    // The successor waits leaseDuration from when it last saw the Lease change; it sees changes at most
    // one retry period late and tries again every retry period. Scheduling on a loaded machine gets 1 s.
    expect(tookOverAfterMs).toBeLessThanOrEqual((LEASE_SECONDS + 2 * RETRY_SECONDS + 1) * 1000);
    const after = await lease();
    expect(after.spec.holderIdentity).toBe(b.identity);
    expect(after.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    expect(await leading(second)).toBe(1);

    await createObject(client, CHRONOS, chronosTransformer(namespace, "after-failover"));
    await waitMirrored(client, namespace, "after-failover");
    // The log line follows the status write the line above saw; it reaches us through a pipe.
    await waitFor("the successor's log of the reconcile", () =>
      second.logs.some((l) => l.msg === "Reconciled ChronosTransformer" && l.name === "after-failover"),
    );
    process.stdout.write(`leader took over ${tookOverAfterMs} ms after kill -9 (lease ${LEASE_SECONDS} s)\n`);
  });

  it("releases the Lease on SIGTERM, so a successor takes over at once", async () => {
    const first = start();
    await first.waitForLog("Acquired leadership");
    const second = start();
    await second.waitForLog("Synced caches");
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.hasLogged("Released leadership")).toBe(true);
    const stoppedAt = Date.now();
    await second.waitForLog("Acquired leadership");
    // No waiting for expiry: the released Lease is free.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_SECONDS * 1000);
  });

  it("stops reconciling and exits when its Lease is taken away", async () => {
    const only = start();
    await only.waitForLog("Acquired leadership");
    // Someone else takes the Lease (as a partitioned leader would find after the network comes back).
    const current = await lease();
    await client.request({
      method: "PUT",
      path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/darwin-operator-test`,
      body: {
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: "intruder",
          renewTime: new Date().toISOString().replace("Z", "000Z"),
        },
      },
    });
    expect(await only.exited).toBe(1);
    expect(only.hasLogged("Lost leadership: the lease was not renewed in time")).toBe(true);
  });
});
