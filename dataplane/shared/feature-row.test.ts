import { describe, expect, it } from "vitest";
import { formatEventTime, parseEventTime, parseFeatureRow } from "./feature-row.ts";

const schema = {
  entities: [{ name: "user_id", type: "int64" as const }],
  features: [
    { name: "age", type: "int32" as const },
    { name: "score", type: "float64" as const },
    { name: "tags", type: "string_list" as const },
  ],
};
const NOW = Date.parse("2026-11-27T12:00:00Z");

describe("event times", () => {
  it("reads RFC 3339 to the microsecond, pandas' spelling and epoch milliseconds", () => {
    expect(parseEventTime("2026-11-27T10:00:00.123456Z")).toBe(1_795_773_600_123_456n);
    expect(parseEventTime("2026-11-27 10:00:00")).toBe(1_795_773_600_000_000n);
    expect(parseEventTime("2026-11-27T11:00:00+01:00")).toBe(1_795_773_600_000_000n);
    expect(parseEventTime(1_795_773_600_123)).toBe(1_795_773_600_123_000n);
    expect(parseEventTime("yesterday")).toBeUndefined();
    expect(formatEventTime(1_795_773_600_123_456n)).toBe("2026-11-27T10:00:00.123456Z");
    expect(formatEventTime(1_795_773_600_999_999n)).toBe("2026-11-27T10:00:00.999999Z");
    expect(formatEventTime(0n)).toBe("1970-01-01T00:00:00.000000Z");
    // Beyond 2^53 microseconds (after the year 2255) the arithmetic is BigInt's.
    expect(formatEventTime(parseEventTime("2300-01-02T03:04:05.000007Z") ?? 0n)).toBe(
      "2300-01-02T03:04:05.000007Z",
    );
  });
});

describe("feature rows", () => {
  it("converts keys and the features a row sets, with its event time", () => {
    const result = parseFeatureRow(
      schema,
      { user_id: "9007199254740993", age: 31, tags: ["a"], event_time: "2026-11-27T10:00:00Z" },
      { now: NOW },
    );
    expect(result).toEqual({
      ok: true,
      row: {
        keys: [9007199254740993n],
        features: [
          { column: schema.features[0], value: 31 },
          { column: schema.features[2], value: ["a"] },
        ],
        eventTimeMicros: 1_795_773_600_000_000n,
      },
    });
  });

  it.each([
    [{ age: 1, event_time: 0 }, "row.user_id: the entity key is missing"],
    [{ user_id: 1.5, age: 1, event_time: 0 }, "row.user_id: must be an int64"],
    [{ user_id: 1, age: "x", event_time: 0 }, "row.age: must be an int32"],
    [{ user_id: 1, height: 3, event_time: 0 }, "row.height: not a column of the group"],
    [{ user_id: 1, age: 3 }, "row.event_time: missing"],
    [{ user_id: 1, age: 3, event_time: "soon" }, 'row.event_time: "soon" is not a time'],
    [{ user_id: 1, event_time: 0 }, "row: sets no feature"],
    [{ user_id: 1, tags: ["a", 2], event_time: 0 }, "row.tags: item 1 must be a string"],
    [{ user_id: 1, age: 3, event_time: "2026-11-28T12:00:00Z" }, "in the future"],
    [[1, 2], "row must be a JSON object"],
  ])("refuses %j naming the field", (input, problem) => {
    const result = parseFeatureRow(schema, input, { now: NOW });
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.problem).toContain(problem);
  });
});
