import { describe, expect, it } from "vitest";
import { boundedName, dns1035Name } from "./names.ts";

describe("boundedName", () => {
  it.each([
    ["short", 53, "", "short"],
    ["short", 63, "-jupyter", "short-jupyter"],
    ["a".repeat(53), 53, "", "a".repeat(53)],
  ])("keeps %s when it fits in %d with suffix %j", (base, max, suffix, expected) => {
    expect(boundedName(base, max, suffix)).toBe(expected);
  });

  it("shortens with a deterministic hash, keeping the suffix and the limit", () => {
    const base = `${"team-a-housing-project-".repeat(2)}experiment-42`;
    const name = boundedName(base, 53);
    expect(name).toHaveLength(53);
    expect(name).toMatch(/^team-a-housing-project-team-a-housing-projec-[0-9a-f]{8}$/);
    expect(boundedName(base, 53)).toBe(name);
    expect(boundedName(`${base}x`, 53)).not.toBe(name);
    const jupyter = boundedName(base, 63, "-jupyter");
    expect(jupyter.length).toBeLessThanOrEqual(63);
    expect(jupyter).toMatch(/-[0-9a-f]{8}-jupyter$/);
  });

  it("never leaves a separator before the hash", () => {
    expect(boundedName(`${"a".repeat(43)}-${"b".repeat(20)}`, 53)).toMatch(/^a{43}-[0-9a-f]{8}$/);
  });
});

describe("dns1035Name", () => {
  it("keeps a name that is already an RFC 1035 label", () => {
    expect(dns1035Name("housing-project", 53)).toBe("housing-project");
  });

  it.each(["2024-experiment", "team.a", "team-a."])("rewrites %s into a label with a hash", (name) => {
    const label = dns1035Name(name, 53);
    expect(label).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(label).toMatch(/-[0-9a-f]{8}$/);
    expect(dns1035Name(name, 53)).toBe(label);
  });

  it("keeps names apart that rewrite alike", () => {
    expect(dns1035Name("a.b", 53)).not.toBe(dns1035Name("a-b", 53));
  });
});
