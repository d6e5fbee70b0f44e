import { describe, expect, it } from "vitest";
import { retryingBusy } from "./kube.ts";

/** A request that fails with the given HTTP codes first, then answers. */
function failingThen(codes: number[], retryAfter = "0") {
  let calls = 0;
  const request = async () => {
    const code = codes[calls++];
    if (code !== undefined)
      throw Object.assign(new Error(`HTTP ${code}`), { code, headers: { "retry-after": retryAfter } });
    return "answer";
  };
  return { request, calls: () => calls };
}

describe("retryingBusy", () => {
  it("calls again after a 429 while the apiserver's cache (re)initializes, then returns the answer", async () => {
    const busy = failingThen([429, 503]);
    await expect(retryingBusy(busy.request)).resolves.toBe("answer");
    expect(busy.calls()).toBe(3);
  });

  it("gives up after the last attempt with the apiserver's error", async () => {
    const busy = failingThen([429, 429, 429]);
    await expect(retryingBusy(busy.request, 3)).rejects.toThrow("HTTP 429");
    expect(busy.calls()).toBe(3);
  });

  it("does not retry other errors", async () => {
    const forbidden = failingThen([403]);
    await expect(retryingBusy(forbidden.request)).rejects.toThrow("HTTP 403");
    expect(forbidden.calls()).toBe(1);
  });
});
