import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { processIdentity } from "./run.ts";

describe("processIdentity", () => {
  it("differs between replicas that share a hostname and a pid (containers run as pid 1)", () => {
    const first = processIdentity();
    const second = processIdentity();
    expect(first).not.toBe(second);
    // client-go's form: the hostname (the pod name) for people reading the Lease, a UUID for uniqueness.
    for (const identity of [first, second]) {
      expect(identity).toMatch(/^.+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(identity.startsWith(`${hostname()}_`)).toBe(true);
    }
  });
});
