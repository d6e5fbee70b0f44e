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

const withOffline = { offlineStore: true };
const onlineOnly = { offlineStore: false };
const condition = (status: string) => ({
  type: "Ready",
  status,
  reason: "Ready",
  message: "x",
  lastTransitionTime: "2026-11-27T00:00:00Z",
});
const ready = { conditions: [condition("True")] };

describe("feed topics", () => {
  it("are the served versions of streaming online groups", () => {
    const target = (version: number) => ({
      namespace: "team-a",
      name: "user-features",
      version,
      online: true,
    });
    expect([...feedTopics([group({ servedVersions: [1, 2] })], onlineOnly).entries()]).toEqual([
      ["darwin.features.team-a.user-features.v1", target(1)],
      ["darwin.features.team-a.user-features.v2", target(2)],
    ]);
    expect(feedTopics([group({})], withOffline).size).toBe(0);
    expect(
      feedTopics([group({ servedVersions: [1] }, { stream: { enabled: false } })], withOffline).size,
    ).toBe(0);
  });

  it("take a group kept offline only when there is an offline store, once it is Ready", () => {
    const offline = { online: { enabled: false }, version: 3 };
    expect([...feedTopics([group(ready, offline)], withOffline).entries()]).toEqual([
      [
        "darwin.features.team-a.user-features.v3",
        { namespace: "team-a", name: "user-features", version: 3, online: false },
      ],
    ]);
    expect(feedTopics([group(ready, offline)], onlineOnly).size).toBe(0);
    expect(feedTopics([group({ conditions: [condition("False")] }, offline)], withOffline).size).toBe(0);
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
