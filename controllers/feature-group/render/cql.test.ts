import { describe, expect, it } from "vitest";
import { createKeyspaceCql, createTableCql, schemaHash, tableChanges } from "./cql.ts";

const schema = {
  entities: [{ name: "user_id", type: "int64" as const }],
  features: [
    { name: "age", type: "int32" as const },
    { name: "embedding", type: "float32_list" as const },
  ],
};

describe("feature group CQL", () => {
  it("creates the keyspace with the configured replication", () => {
    expect(createKeyspaceCql("fs_team_a", { class: "SimpleStrategy", replicationFactor: 1 })).toBe(
      `CREATE KEYSPACE IF NOT EXISTS "fs_team_a" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    expect(
      createKeyspaceCql("fs_x", { class: "NetworkTopologyStrategy", dataCenters: { dc1: 3, dc2: 2 } }),
    ).toContain(`{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}`);
  });

  it("makes the entity keys the partition key, one typed column per feature, and the event time", () => {
    expect(createTableCql("ks", "t_v1", schema)).toBe(
      `CREATE TABLE IF NOT EXISTS "ks"."t_v1" ("user_id" bigint, "age" int, "embedding" frozen<list<float>>, "event_time" timestamp, PRIMARY KEY (("user_id")))`,
    );
  });

  it("adds a new feature in place and reports a column whose type differs", () => {
    const live = [
      { name: "user_id", type: "bigint" },
      { name: "age", type: "int" },
      { name: "event_time", type: "timestamp" },
    ];
    expect(tableChanges("ks", "t", schema, live)).toEqual({
      statements: [`ALTER TABLE "ks"."t" ADD "embedding" frozen<list<float>>`],
      conflicts: [],
    });
    const wrong = tableChanges("ks", "t", schema, [{ name: "user_id", type: "text" }, ...live.slice(1)]);
    expect(wrong.conflicts).toEqual(["user_id is text, the spec says int64 (bigint)"]);
  });

  it("hashes names and types, not descriptions", () => {
    const described = { ...schema, features: schema.features.map((f) => ({ ...f, description: "x" })) };
    expect(schemaHash(described)).toBe(schemaHash(schema));
    expect(schemaHash({ ...schema, features: [{ name: "age", type: "int64" as const }] })).not.toBe(
      schemaHash(schema),
    );
  });
});
