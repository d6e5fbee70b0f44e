import { describe, expect, it } from "vitest";
import { validateFeatureGroup } from "./feature-group.ts";
import { resource } from "./fixtures.ts";

const group = (spec: Record<string, unknown> = {}) =>
  resource("FeatureGroup", {
    version: 1,
    entities: [{ name: "user_id", type: "int64" }],
    features: [
      { name: "age", type: "int32" },
      { name: "tenure", type: "float64" },
      { name: "activity_score", type: "float64" },
    ],
    stream: { enabled: true, partitions: 6 },
    ...spec,
  });

describe("validateFeatureGroup", () => {
  it("accepts a valid group and compatible updates", () => {
    expect(validateFeatureGroup(group(), undefined)).toEqual([]);
    const added = group({
      features: [
        { name: "age", type: "int32" },
        { name: "tenure", type: "float64" },
        { name: "activity_score", type: "float64" },
        { name: "clicks", type: "int64" },
      ],
    });
    expect(validateFeatureGroup(added, group())).toEqual([]);
    const bumped = group({ version: 2, features: [{ name: "age", type: "int64" }] });
    expect(validateFeatureGroup(bumped, group())).toEqual([]);
  });

  it("lists every type change made without a version bump", () => {
    const changed = group({
      entities: [{ name: "user_id", type: "string" }],
      features: [
        { name: "age", type: "int64" },
        { name: "tenure", type: "float64" },
        { name: "activity_score", type: "float32" },
      ],
    });
    expect(validateFeatureGroup(changed, group())).toEqual([
      {
        field: "spec.features[0].type",
        message: 'type of feature "age" changed from int32 to int64 without a version bump',
        fix: "keep int32, or increase spec.version to 2 (a new version gets a new table)",
      },
      {
        field: "spec.features[2].type",
        message: 'type of feature "activity_score" changed from float64 to float32 without a version bump',
        fix: "keep float64, or increase spec.version to 2 (a new version gets a new table)",
      },
      {
        field: "spec.entities",
        message: "entity keys changed from [user_id:int64] to [user_id:string] without a version bump",
        fix: "keep the keys, or increase spec.version to 2 (a new version gets a new table)",
      },
    ]);
  });

  it("names each feature removed or renamed without a version bump", () => {
    const features = [
      { name: "age", type: "int32" },
      { name: "tenure_months", type: "float64" },
    ];
    const renamed = group({ features });
    expect(validateFeatureGroup(renamed, group())).toEqual([
      {
        field: "spec.features",
        message:
          'feature "tenure" (spec.features[1] of version 1) was removed or renamed without a version bump: readers of version 1 would lose the column',
        fix: "keep it, or increase spec.version to 2 (a new version gets a new table)",
      },
      {
        field: "spec.features",
        message:
          'feature "activity_score" (spec.features[2] of version 1) was removed or renamed without a version bump: readers of version 1 would lose the column',
        fix: "keep it, or increase spec.version to 2 (a new version gets a new table)",
      },
    ]);
    expect(validateFeatureGroup(group({ features, version: 2 }), group())).toEqual([]);
  });

  it("refuses a version that goes down and partitions that shrink", () => {
    const errors = validateFeatureGroup(
      group({ version: 1, stream: { enabled: true, partitions: 3 } }),
      group({ version: 2 }),
    );
    expect(errors.map((e) => e.field)).toEqual(["spec.version", "spec.stream.partitions"]);
    expect(errors[0]?.fix).toBe("versions never go down: set spec.version to 2 or higher");
    expect(errors[1]?.message).toBe("decreased from 6 to 3, but a Kafka topic cannot lose partitions");
  });

  it("refuses CQL reserved words and names shared by an entity and a feature", () => {
    const errors = validateFeatureGroup(
      group({
        entities: [{ name: "token", type: "string" }],
        features: [
          { name: "token", type: "int32" },
          { name: "order", type: "int32" },
        ],
      }),
      undefined,
    );
    expect(errors).toEqual([
      expect.objectContaining({
        field: "spec.entities[0].name",
        message: expect.stringMatching(/reserved word of CQL/),
      }),
      {
        field: "spec.features[0].name",
        message: '"token" is already the name of spec.entities[0].name',
        fix: "give every entity key and feature its own name",
      },
      expect.objectContaining({
        field: "spec.features[0].name",
        message: expect.stringMatching(/reserved word/),
      }),
      {
        field: "spec.features[1].name",
        message: '"order" is a reserved word of CQL and cannot name an online-store column',
        fix: "rename it, e.g. order_value",
      },
    ]);
  });
});
