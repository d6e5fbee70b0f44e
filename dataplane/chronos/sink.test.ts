import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient } from "../../operator/kube-client.ts";
import { silentLogger } from "../../operator/logger.ts";
import { waitFor } from "../../test-e2e/support/wait.ts";
import { chronosSinkFromEnv, HttpEventSink } from "./sink.ts";

/** A local HTTP server answering with the statuses given, one per request (the last one repeats). */
async function server(statuses: number[]) {
  const bodies: Array<{ authorization?: string; events: Array<{ id: string }> }> = [];
  const srv = http.createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => {
      text += chunk;
    });
    request.on("end", () => {
      bodies.push({ authorization: request.headers.authorization, ...JSON.parse(text) });
      response.statusCode = statuses[Math.min(bodies.length - 1, statuses.length - 1)] ?? 202;
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, bodies, srv };
}

const event = (id: string) => ({
  id,
  namespace: "team-a",
  source: "darwin-compute",
  type: "cluster_ready",
  payload: {},
});
let close: (() => void) | undefined;
afterEach(() => close?.());

describe("HttpEventSink", () => {
  it("retries while Chronos answers 503 and delivers the events in order, with the credentials", async () => {
    const { url, bodies, srv } = await server([503, 503, 202]);
    close = () => srv.close();
    const sink = new HttpEventSink({
      url,
      log: silentLogger(),
      authorization: async () => "Bearer t0k3n",
      maxBackoffMs: 20,
    });
    sink.publish(event("a"));
    sink.publish(event("b"));
    await waitFor("delivered", () => sink.stats.delivered === 2);
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect(bodies.at(-1)).toEqual({ authorization: "Bearer t0k3n", events: [event("a"), event("b")] });
    expect(sink.stats.retries).toBe(2);
    await sink.close();
  });

  it("drops a batch Chronos refuses as invalid instead of retrying it forever", async () => {
    const { url, bodies, srv } = await server([400, 202]);
    close = () => srv.close();
    const sink = new HttpEventSink({ url, log: silentLogger(), authorization: async () => undefined });
    sink.publish(event("bad"));
    await waitFor("dropped", () => sink.stats.dropped === 1);
    sink.publish(event("good"));
    await waitFor("delivered", () => sink.stats.delivered === 1);
    expect(bodies.map((b) => b.events.map((e) => e.id))).toEqual([["bad"], ["good"]]);
    await sink.close();
  });

  it("posts with the credentials of the process's one Kubernetes client, not a kubeconfig of its own", async () => {
    const { url, bodies, srv } = await server([202]);
    close = () => srv.close();
    const client = new KubeClient({
      server: "https://127.0.0.1:1",
      token: { type: "static", token: "operator-token" },
    });
    const sink = chronosSinkFromEnv(silentLogger(), client, { DARWIN_CHRONOS_URL: url });
    expect(sink).toBeDefined();
    sink?.publish(event("a"));
    await waitFor("delivered", () => bodies.length === 1);
    expect(bodies[0]?.authorization).toBe("Bearer operator-token");
    await sink?.close();
    client.close();
  });

  it("is off without DARWIN_CHRONOS_URL", () => {
    expect(chronosSinkFromEnv(silentLogger(), { authorization: async () => undefined }, {})).toBeUndefined();
  });
});
