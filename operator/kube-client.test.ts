/** KubeClient's handling of busy answers, with a stand-in apiserver that answers 429 and 503 on demand. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "./api-error.ts";
import { busyDelayMs, type KubeClient } from "./kube-client.ts";
import { StandInBusyApiserver } from "./testing/busy-apiserver.ts";

const PATH = "/api/v1/namespaces/ns/configmaps/settings";
let apiserver: StandInBusyApiserver;
let client: KubeClient;

beforeEach(async () => {
  apiserver = new StandInBusyApiserver(() => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings" },
  }));
  client = await apiserver.start({ attempts: 4, maxDelayMs: 2_000 });
});
afterEach(async () => {
  client.close();
  await apiserver.stop();
});

describe("KubeClient on a busy apiserver", () => {
  it("asks again after a 429 and a 503 with Retry-After, waiting as long as told, and returns the answer", async () => {
    apiserver.busy = [
      { code: 429, headers: { "retry-after": "1" } },
      { code: 503, headers: { "retry-after": "0" } },
    ];
    const codes: number[] = [];
    client.observe((r) => codes.push(r.code));
    await expect(client.requestObject({ method: "GET", path: PATH })).resolves.toMatchObject({
      metadata: { name: "settings" },
    });
    expect(codes).toEqual([429, 503, 200]);
    const [first, second] = apiserver.seen;
    // Timers never fire early: the second try came at least the second Retry-After asked for.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it("sends the body again on each try", async () => {
    apiserver.busy = [{ code: 429, headers: { "retry-after": "0" } }];
    await client.request({ method: "POST", path: PATH, body: { data: { a: "1" } } });
    expect(apiserver.seen.map((s) => [s.method, s.body])).toEqual([
      ["POST", '{"data":{"a":"1"}}'],
      ["POST", '{"data":{"a":"1"}}'],
    ]);
  });

  it("gives up after the last attempt with the apiserver's error", async () => {
    apiserver.busy = Array.from({ length: 4 }, () => ({ code: 429, headers: { "retry-after": "0" } }));
    const error = await client.request({ method: "GET", path: PATH }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(429);
    expect((error as ApiError).message).toContain("the server is busy");
    expect(apiserver.seen).toHaveLength(4);
  });

  it("uses the request's own policy when it has one", async () => {
    apiserver.busy = [{ code: 429, headers: { "retry-after": "0" } }];
    await expect(
      client.request({ method: "GET", path: PATH, retry: { attempts: 1, maxDelayMs: 0 } }),
    ).rejects.toThrow(/429/);
    expect(apiserver.seen).toHaveLength(1);
  });

  it.each([
    ["a 503 without Retry-After", { code: 503 }],
    ["a 500", { code: 500, headers: { "retry-after": "0" } }],
    ["a 403", { code: 403 }],
  ])("does not retry %s", async (_what, answer) => {
    apiserver.busy = [answer];
    await expect(client.request({ method: "GET", path: PATH })).rejects.toThrow(String(answer.code));
    expect(apiserver.seen).toHaveLength(1);
  });

  it("waits at most maxDelayMs, whatever Retry-After says", async () => {
    // Were the 120 s honoured, the test would time out.
    apiserver.busy = [{ code: 429, headers: { "retry-after": "120" } }];
    await client.request({ method: "GET", path: PATH, retry: { attempts: 2, maxDelayMs: 10 } });
    expect(apiserver.seen).toHaveLength(2);
  });

  it("stops waiting when the request is aborted", async () => {
    apiserver.busy = [{ code: 429, headers: { "retry-after": "120" } }];
    const abort = new AbortController();
    const pending = client.request({ method: "GET", path: PATH, signal: abort.signal });
    await new Promise<void>((resolve) => client.observe(() => resolve()));
    abort.abort();
    await expect(pending).rejects.toThrow(/429/);
    expect(apiserver.seen).toHaveLength(1);
  });

  it("retries the opening of a watch the same way", async () => {
    apiserver.busy = [{ code: 429, headers: { "retry-after": "0" } }];
    const res = await client.stream({ method: "GET", path: PATH, query: { watch: true } });
    expect(res.statusCode).toBe(200);
    res.destroy();
    expect(apiserver.seen).toHaveLength(2);
  });
});

describe("busyDelayMs", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  it.each([
    [429, "3", 3000],
    [429, undefined, 1000],
    [429, "Tue, 01 Jan 2030 00:00:05 GMT", 5000],
    [429, "Mon, 31 Dec 2029 23:59:00 GMT", 0],
    [429, "soon", 1000],
    [503, "2", 2000],
    [503, undefined, undefined],
    [500, "2", undefined],
    [404, undefined, undefined],
  ])("%i with Retry-After %s waits %s ms", (code, header, expected) => {
    expect(busyDelayMs(code, header, now)).toBe(expected);
  });
});
