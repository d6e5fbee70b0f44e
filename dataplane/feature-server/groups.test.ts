import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { GroupRegistry } from "./groups.ts";
import { selectCql } from "./reader.ts";

const v2: KubeObject = {
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "FeatureGroup",
  metadata: { name: "user-features", namespace: "team-a" },
  spec: {
    version: 2,
    entities: [{ name: "user_id", type: "int64" }],
    features: [{ name: "age", type: "int64" }],
    ttlSeconds: 60,
  },
  status: { servedVersions: [1, 2] },
};

/** Version 1's table as system_schema.columns lists it (what Cassandra answers for the real table). */
const v1Columns = [
  { name: "user_id", type: "bigint", kind: "partition_key", position: 0 },
  { name: "age", type: "int", kind: "regular", position: -1 },
  { name: "scores", type: "frozen<list<float>>", kind: "regular", position: -1 },
  { name: "event_time", type: "timestamp", kind: "regular", position: -1 },
];

describe("group registry", () => {
  const reads: string[] = [];
  const registry = new GroupRegistry({ list: () => [v2], get: () => undefined }, async (keyspace, table) => {
    reads.push(`${keyspace}.${table}`);
    return table.endsWith("_v1") ? v1Columns : [];
  });

  it("reads the current version from the spec and an older one from its table, once", async () => {
    const current = await registry.resolve("team-a", "user_features");
    expect(current).toMatchObject({
      version: 2,
      table: "user_features_v2",
      keyspace: "fs_team_a",
      ttlSeconds: 60,
    });
    const old = await registry.resolve("team-a", "user-features", 1);
    expect(old.features).toEqual([
      { name: "age", type: "int32" },
      { name: "scores", type: "float32_list" },
    ]);
    expect(old.entities).toEqual([{ name: "user_id", type: "int64" }]);
    await registry.resolve("team-a", "user-features", 1);
    expect(reads).toEqual(["fs_team_a.user_features_v1"]);
  });

  it("refuses versions that are not served, naming those that are", async () => {
    await expect(registry.resolve("team-a", "user-features", 3)).rejects.toMatchObject({
      statusCode: 404,
      message: expect.stringContaining("served versions: 1, 2"),
    });
  });
});

describe("a status from before servedVersions", () => {
  it("serves the current version once Ready, and nothing before", async () => {
    const status = (ready: string) => ({
      conditions: [
        {
          type: "Ready",
          status: ready,
          reason: "x",
          message: "x",
          lastTransitionTime: "2026-11-27T00:00:00Z",
        },
      ],
    });
    const group = (ready: string): KubeObject => ({ ...v2, status: status(ready) });
    const registry = (ready: string) =>
      new GroupRegistry({ list: () => [group(ready)], get: () => undefined }, async () => []);
    expect(await registry("True").resolve("team-a", "user_features")).toMatchObject({ version: 2 });
    await expect(registry("False").resolve("team-a", "user_features")).rejects.toMatchObject({
      statusCode: 503,
    });
  });
});

describe("a group kept offline only", () => {
  const status = (ready: string) => ({
    conditions: [
      { type: "Ready", status: ready, reason: "x", message: "x", lastTransitionTime: "2026-11-27T00:00:00Z" },
    ],
    servedVersions: [],
  });
  const registry = (ready: string) =>
    new GroupRegistry(
      {
        list: () => [
          { ...v2, spec: { ...(v2.spec as object), online: { enabled: false } }, status: status(ready) },
        ],
        get: () => undefined,
      },
      async () => [],
    );

  it("is resolved, current version only, for pushes and training sets once Ready; never for online reads", async () => {
    expect(await registry("True").resolve("team-a", "user_features", undefined, "any")).toMatchObject({
      version: 2,
      online: false,
    });
    await expect(registry("True").resolve("team-a", "user_features", 1, "any")).rejects.toMatchObject({
      statusCode: 404,
      code: "VERSION_NOT_SERVED",
    });
    await expect(
      registry("False").resolve("team-a", "user_features", undefined, "any"),
    ).rejects.toMatchObject({
      statusCode: 503,
    });
    await expect(registry("True").resolve("team-a", "user_features")).rejects.toMatchObject({
      statusCode: 404,
      code: "GROUP_NOT_ONLINE",
    });
  });
});

describe("read statements", () => {
  const group = {
    namespace: "a",
    name: "g",
    version: 1,
    keyspace: "fs_a",
    table: "g_v1",
    entities: [{ name: "user_id", type: "int64" as const }],
    features: [],
    ttlSeconds: 0,
    online: true,
  };
  const features = [{ name: "select", type: "int32" as const }];

  it("selects each value with its write time, by full partition key or IN a list of keys", () => {
    expect(selectCql(group, features)).toBe(
      `SELECT "select", WRITETIME("select") FROM "fs_a"."g_v1" WHERE "user_id" = ?`,
    );
    expect(selectCql(group, features, "in")).toBe(
      `SELECT "select", WRITETIME("select"), "user_id" FROM "fs_a"."g_v1" WHERE "user_id" IN ?`,
    );
  });
});
