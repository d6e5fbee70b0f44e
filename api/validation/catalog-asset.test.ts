import { describe, expect, it } from "vitest";
import { validateCatalogAsset } from "./catalog-asset.ts";
import { resource } from "./fixtures.ts";

const asset = (schema: unknown[]) =>
  resource("CatalogAsset", {
    type: "dataset",
    location: "s3://lake/housing/raw/",
    owner: "data-eng@example.com",
    schema,
  });

describe("validateCatalogAsset", () => {
  it("accepts distinct schema field names", () => {
    expect(
      validateCatalogAsset(
        asset([
          { name: "bedrooms", type: "int32" },
          { name: "price", type: "float64" },
        ]),
      ),
    ).toEqual([]);
  });

  it("refuses names that repeat, also when only their case differs", () => {
    const errors = validateCatalogAsset(
      asset([
        { name: "price", type: "float64" },
        { name: "Price", type: "float64" },
        { name: "price", type: "int32" },
      ]),
    );
    expect(errors).toEqual([
      {
        field: "spec.schema[1].name",
        message: '"Price" differs from spec.schema[0].name "price" only in case',
        fix: "give every schema field a distinct name (compared ignoring case)",
      },
      {
        field: "spec.schema[2].name",
        message: '"price" repeats spec.schema[0].name',
        fix: "give every schema field a distinct name (compared ignoring case)",
      },
    ]);
  });
});
