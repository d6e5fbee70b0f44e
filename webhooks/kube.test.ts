/**
 * The webhook's lookups wait out a busy apiserver (429, or 503 with Retry-After, as while a resource's watch
 * cache initializes after its CRD changed) through the operator's KubeClient, within the admission timeout.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_VERSION } from "../crds/src/index.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { StandInBusyApiserver } from "../operator/testing/busy-apiserver.ts";
import { apiLookupSource } from "./kube.ts";

const runtime = {
  apiVersion: API_VERSION,
  kind: "DarwinRuntime",
  metadata: { name: "ray2.37.0-py310-cpu" },
  spec: {
    displayName: "Ray2.37.0-Py310-CPU",
    rayVersion: "2.37.0",
    pythonVersion: "3.10",
    image: "ray:2.37.0",
  },
};

let apiserver: StandInBusyApiserver;
let client: KubeClient;
beforeEach(async () => {
  apiserver = new StandInBusyApiserver(() => ({ apiVersion: API_VERSION, kind: "List", items: [runtime] }));
  client = await apiserver.start();
});
afterEach(async () => {
  client.close();
  await apiserver.stop();
});

const busy = (code: number) => ({ code, headers: { "retry-after": "0" } });

describe("webhook lookups on a busy apiserver", () => {
  it("calls again after a 429 while the apiserver's cache (re)initializes, then returns the answer", async () => {
    apiserver.busy = [busy(429), busy(503)];
    const runtimes = await apiLookupSource(client).runtimes();
    expect(runtimes.map((r) => r.name)).toEqual(["ray2.37.0-py310-cpu"]);
    expect(apiserver.seen).toHaveLength(3);
  });

  it("gives up after the last attempt with the apiserver's error", async () => {
    apiserver.busy = [busy(429), busy(429), busy(429)];
    await expect(apiLookupSource(client, { attempts: 3, maxDelayMs: 0 }).runtimes()).rejects.toThrow(
      "429 TooManyRequests",
    );
    expect(apiserver.seen).toHaveLength(3);
  });

  it("does not retry other errors", async () => {
    apiserver.busy = [{ code: 403 }];
    await expect(apiLookupSource(client).runtimes()).rejects.toThrow("403");
    expect(apiserver.seen).toHaveLength(1);
  });
});
