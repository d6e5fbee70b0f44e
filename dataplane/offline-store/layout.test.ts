import { describe, expect, it } from "vitest";
import { eventDate, fileLocation, versionPrefix } from "./layout.ts";

const id = { namespace: "team-a", group: "user-features", version: 2 };

describe("offline store layout", () => {
  it("partitions by tenant, group, version and the event's UTC date", () => {
    const micros = BigInt(Date.parse("2026-11-27T23:59:59.999Z")) * 1000n + 999n;
    expect(eventDate(micros)).toBe("2026-11-27");
    expect(fileLocation({ bucket: "lake", key: "features/" }, id, "2026-11-27", micros, "abcd1234")).toEqual({
      bucket: "lake",
      key: `features/tenant=team-a/group=user-features/version=2/date=2026-11-27/part-${micros}-abcd1234.parquet`,
    });
  });

  it("puts a store without a prefix at the bucket's root", () => {
    expect(versionPrefix({ bucket: "lake", key: "" }, id).key).toBe(
      "tenant=team-a/group=user-features/version=2/",
    );
  });
});
