import { describe, expect, it } from "vitest";
import {
  CASSANDRA_NAME_MAX,
  keyspaceName,
  sdkGroupName,
  tableName,
  tableVersionPattern,
  topicName,
} from "./names.ts";

describe("feature store names", () => {
  it("turns a Kubernetes name into the seed's underscore spelling and a table per version", () => {
    expect(sdkGroupName("user-features")).toBe("user_features");
    expect(tableName("user-features", 1)).toBe("user_features_v1");
    expect(tableName("user-features", 12)).toBe("user_features_v12");
    expect(keyspaceName("team-a")).toBe("fs_team_a");
    expect(topicName("team-a", "user-features", 2)).toBe("darwin.features.team-a.user-features.v2");
  });

  it("keeps long and dotted names within Cassandra's 48 characters and apart from each other", () => {
    const long = "a".repeat(63);
    expect(tableName(long, 100000).length).toBeLessThanOrEqual(CASSANDRA_NAME_MAX);
    expect(keyspaceName("n".repeat(63)).length).toBeLessThanOrEqual(CASSANDRA_NAME_MAX);
    expect(tableName("a.b", 1)).not.toBe(tableName("a-b", 1));
    expect(tableName("a.b", 1)).toMatch(/^[a-z0-9_]+$/);
    expect(tableName(`${long}`, 1)).not.toBe(tableName(`${"a".repeat(62)}b`, 1));
  });

  it("matches every version's table of one group and no other group's", () => {
    const pattern = tableVersionPattern("user-features");
    expect(pattern.test("user_features_v1")).toBe(true);
    expect(pattern.test("user_features_v20")).toBe(true);
    expect(pattern.test("user_features_extra_v1")).toBe(false);
    const long = tableVersionPattern("b".repeat(63));
    expect(long.test(tableName("b".repeat(63), 7))).toBe(true);
  });
});
