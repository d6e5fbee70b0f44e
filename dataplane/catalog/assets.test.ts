import { describe, expect, it } from "vitest";
import { columnsText, nameWords, schemaHash } from "./assets.ts";

describe("search text", () => {
  it("splits names and column names into words", () => {
    expect(nameWords("housing-prices_raw.v2")).toBe("housing-prices_raw.v2 housing prices raw v2");
    expect(
      columnsText([{ name: "sale_price", type: "float64", nullable: true, description: "Price in USD" }]),
    ).toBe("sale_price sale price Price in USD");
  });

  it("gives a new schema hash only when the fields change", () => {
    const fields = [{ name: "a", type: "int32", nullable: true }];
    expect(schemaHash(fields)).toBe(schemaHash([{ name: "a", type: "int32", nullable: true }]));
    expect(schemaHash(fields)).not.toBe(schemaHash([{ name: "a", type: "int64", nullable: true }]));
  });
});
