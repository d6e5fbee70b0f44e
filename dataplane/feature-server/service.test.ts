import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { GroupRegistry, RequestError } from "./groups.ts";
import type { FeatureValue, KeyValue } from "./reader.ts";
import { FeatureService } from "./service.ts";

const group = (name: string, namespace: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "FeatureGroup",
  metadata: { name, namespace },
  spec: {
    version: 1,
    entities: [{ name: "user_id", type: "int64" }],
    features: [
      { name: "age", type: "int32" },
      { name: "tenure", type: "float64" },
    ],
    ...extra,
  },
  status: { servedVersions: [1] },
});

const objects = [group("user-features", "team-a")];
const registry = new GroupRegistry(
  {
    list: (ns) => objects.filter((o) => o.metadata.namespace === ns),
    get: (ns, name) => objects.find((o) => o.metadata.namespace === ns && o.metadata.name === name),
  },
  async () => [],
);

/** Stands in for Cassandra in these unit tests: key 1 has both values, key 2 nothing. */
const stubReader = {
  calls: [] as KeyValue[][][],
  async read(_g: unknown, features: readonly unknown[], keys: KeyValue[][]): Promise<FeatureValue[][]> {
    this.calls.push(keys);
    return keys.map(([k]) =>
      features.map((_, j) =>
        k === 1n
          ? { value: j === 0 ? 30 : 1.5, status: "PRESENT", eventTime: new Date("2026-11-27T09:27:05.123Z") }
          : { value: null, status: "NOT_FOUND", eventTime: undefined },
      ),
    );
  },
};
const service = new FeatureService({ registry, reader: stubReader, maxKeys: 3 });

describe("fetch_features", () => {
  it("finds the group by its SDK name and answers row by row", async () => {
    const answer = await service.fetch("team-a", {
      feature_group_name: "user_features",
      feature_columns: ["tenure", "age"],
      primary_key_names: ["user_id"],
      primary_key_values: [[1], ["2"]],
    });
    expect(stubReader.calls.at(-1)).toEqual([[1n], [2n]]);
    expect(answer).toEqual({
      feature_group_name: "user_features",
      version: 1,
      feature_columns: ["tenure", "age"],
      primary_key_names: ["user_id"],
      rows: [
        {
          primary_key_values: [1],
          values: [30, 1.5],
          statuses: ["PRESENT", "PRESENT"],
          event_timestamps: ["2026-11-27T09:27:05.123Z", "2026-11-27T09:27:05.123Z"],
        },
        {
          primary_key_values: [2],
          values: [null, null],
          statuses: ["NOT_FOUND", "NOT_FOUND"],
          event_timestamps: [null, null],
        },
      ],
    });
  });

  it("does not see another namespace's group", async () => {
    const err = await service
      .fetch("team-b", {
        feature_group_name: "user_features",
        feature_columns: ["age"],
        primary_key_names: ["user_id"],
        primary_key_values: [[1]],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect(err).toMatchObject({ statusCode: 404, code: "GROUP_NOT_FOUND" });
  });
});

describe("get-online-features (Feast)", () => {
  it("answers column by column with the entity key first and second-precision times", async () => {
    const answer = await service.getOnlineFeatures("team-a", {
      features: ["user_features:age"],
      entities: { user_id: [1, 2] },
      full_feature_names: false,
    });
    expect(answer).toEqual({
      metadata: { feature_names: ["user_id", "age"] },
      results: [
        {
          values: [1, 2],
          statuses: ["PRESENT", "PRESENT"],
          event_timestamps: ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"],
        },
        {
          values: [30, null],
          statuses: ["PRESENT", "NOT_FOUND"],
          event_timestamps: ["2026-11-27T09:27:05Z", "1970-01-01T00:00:00Z"],
        },
      ],
    });
    const full = await service.getOnlineFeatures("team-a", {
      features: ["user_features:age"],
      entities: { user_id: [1] },
      full_feature_names: true,
    });
    expect(full.metadata.feature_names).toEqual(["user_id", "user_features__age"]);
  });
});
