import { describe, expect, it } from "vitest";
import { servedVersionsOf } from "./reconciler.ts";
import { computeFeatureGroupStatus } from "./status.ts";

const now = new Date("2026-11-27T10:00:00Z");
const base = {
  generation: 3,
  keyspace: "fs_a",
  table: "fs_a.user_features_v2",
  topic: "darwin.features.a.user-features.v2",
  schemaHash: "abc",
  version: 2,
  servedVersions: [1, 2],
};
const ok = (reason: string) => ({ ok: true, reason, message: reason });

describe("FeatureGroup status", () => {
  it("is Ready when the table and topic are, and names what is served", () => {
    const status = computeFeatureGroupStatus(
      undefined,
      { ...base, store: ok("TableReady"), topicStep: ok("TopicReady") },
      now,
    );
    expect(status).toMatchObject({ keyspace: "fs_a", servedVersion: 2, servedVersions: [1, 2] });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["StoreReady", "True", "TableReady"],
      ["TopicReady", "True", "TopicReady"],
      ["Ready", "True", "Serving"],
    ]);
  });

  it("says which store is unreachable, keeping the versions known before", () => {
    const previous = { servedVersions: [1] };
    const down = { ok: false, reason: "CassandraUnavailable", message: "Cassandra could not be reached" };
    const status = computeFeatureGroupStatus(
      previous,
      { ...base, servedVersions: undefined, store: down, topicStep: ok("TopicReady") },
      now,
    );
    expect(status.servedVersions).toEqual([1]);
    const ready = status.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "CassandraUnavailable" });
  });
});

describe("served versions", () => {
  it("keeps every recorded version by default, or only those the spec lists", () => {
    expect(servedVersionsOf({ version: 3 }, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(servedVersionsOf({ version: 3, servedVersions: [2] }, [1, 2, 3])).toEqual([2, 3]);
    expect(servedVersionsOf({ version: 3, servedVersions: [] }, [1, 2])).toEqual([3]);
  });
});
