import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { materializerStatus } from "./status.ts";
import { feedTopics } from "./topics.ts";

const group = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "FeatureGroup",
  metadata: { name: "user-features", namespace: "team-a" },
  spec: {
    entities: [{ name: "user_id", type: "int64" }],
    features: [{ name: "age", type: "int32" }],
    stream: { enabled: true },
    ...spec,
  },
  status,
});

describe("feed topics", () => {
  it("are the served versions of streaming online groups", () => {
    expect([...feedTopics([group({ servedVersions: [1, 2] })]).entries()]).toEqual([
      ["darwin.features.team-a.user-features.v1", { namespace: "team-a", name: "user-features", version: 1 }],
      ["darwin.features.team-a.user-features.v2", { namespace: "team-a", name: "user-features", version: 2 }],
    ]);
    expect(feedTopics([group({})]).size).toBe(0);
    expect(feedTopics([group({ servedVersions: [1] }, { stream: { enabled: false } })]).size).toBe(0);
    expect(feedTopics([group({ servedVersions: [1] }, { online: { enabled: false } })]).size).toBe(0);
  });
});

describe("materializer status", () => {
  const t1 = 1_795_773_600_000_000n;
  it("moves freshness forward only and writes nothing when unchanged", () => {
    const first = materializerStatus(group({}), t1, 5);
    expect(first).toEqual({ lastWriteTime: "2026-11-27T10:00:00.000000Z", materialization: { lag: 5 } });
    const live = group(first as unknown as Record<string, unknown>);
    expect(materializerStatus(live, t1, 5)).toBeUndefined();
    expect(materializerStatus(live, t1 - 1_000_000n, 0)).toEqual({
      lastWriteTime: "2026-11-27T10:00:00.000000Z",
      materialization: { lag: 0 },
    });
    expect(materializerStatus(live, undefined, undefined)).toBeUndefined();
  });
});
