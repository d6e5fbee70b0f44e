import { describe, expect, it } from "vitest";
import { computeCatalogAssetStatus } from "./status.ts";

const now = new Date("2026-01-01T00:00:00Z");

describe("computeCatalogAssetStatus", () => {
  it("is Ready with the schema version once registered", () => {
    expect(
      computeCatalogAssetStatus({ generation: 3, conditions: undefined }, { schemaVersion: 2 }, now),
    ).toEqual({
      registered: true,
      schemaVersion: 2,
      observedGeneration: 3,
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Registered",
          message: "In the catalog index with schema version 2.",
          lastTransitionTime: "2026-01-01T00:00:00Z",
          observedGeneration: 3,
        },
      ],
    });
  });

  it("says why when it is not registered", () => {
    const status = computeCatalogAssetStatus(
      { generation: 1, conditions: undefined },
      { reason: "CatalogNotConfigured", message: "no database" },
      now,
    );
    expect(status.registered).toBe(false);
    expect(status.conditions[0]).toMatchObject({ status: "False", reason: "CatalogNotConfigured" });
  });
});
