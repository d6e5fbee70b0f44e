// @testbed control
/**
 * An informer against the testbed's apiserver, held open for 3 minutes with bookmarks on: the apiserver
 * sends a BOOKMARK about once a minute, and the informer must take each one (no restart, no relist) and
 * advance its resourceVersion with it.
 */
import { setTimeout as delay } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { Informer } from "./informer.ts";
import type { KubeClient } from "./kube-client.ts";
import { CONFIG_MAPS, testLogger } from "./testing/testbed.ts";

const HOLD_MS = 3 * 60_000;

let client: KubeClient;
let watched: string;
let elsewhere: string;

const tb = useTestbed();

beforeAll(async () => {
  client = tb.client;
  watched = await tb.createNamespace("runtime-bookmarks");
  elsewhere = await tb.createNamespace("runtime-bookmarks-other");
});

describe("Informer on the real apiserver", () => {
  it("keeps one watch open for 3 minutes of bookmarks, advancing its resourceVersion", {
    timeout: HOLD_MS + 60_000,
  }, async () => {
    const restarts: string[] = [];
    const informer = new Informer(client, CONFIG_MAPS, {
      namespace: watched,
      resyncPeriodMs: 0,
      silenceTimeoutMs: 150_000,
      // The server ends a watch after 10 to 20 minutes: longer than the test, so any restart is a failure.
      watchTimeoutSeconds: 600,
      backoff: { baseMs: 200, maxMs: 1000 },
      log: testLogger(),
      observer: { listed: () => undefined, watchRestarted: (_r, reason) => restarts.push(reason) },
    });
    const watches: string[] = [];
    const stopObserving = client.observe((r) => {
      if (r.watch) watches.push(r.path);
    });
    informer.start();
    await informer.waitForSync();
    const listedAt = informer.lastSyncResourceVersion;
    // Writes in another namespace move the ConfigMaps' resourceVersion on without an event for this watch:
    // only bookmarks can tell the informer about them.
    const started = Date.now();
    let writes = 0;
    try {
      // Holding the watch open is what is tested: the test waits out the time, writing every 20 s.
      while (Date.now() - started < HOLD_MS) {
        await client.request({
          method: "POST",
          path: `/api/v1/namespaces/${elsewhere}/configmaps`,
          body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `tick-${writes}` } },
        });
        writes += 1;
        await delay(20_000);
      }
    } finally {
      stopObserving();
      await informer.stop();
    }
    expect(restarts).toEqual([]);
    expect(informer.stats.lists).toBe(1);
    expect(watches).toHaveLength(1);
    expect(informer.stats.events).toBe(0);
    expect(informer.stats.bookmarks).toBeGreaterThanOrEqual(2);
    expect(BigInt(informer.lastSyncResourceVersion ?? "0")).toBeGreaterThan(BigInt(listedAt ?? "0"));
    process.stdout.write(
      `held one watch ${Math.round((Date.now() - started) / 1000)} s: ${informer.stats.bookmarks} bookmarks, resourceVersion ${listedAt} -> ${informer.lastSyncResourceVersion}\n`,
    );
  });
});
