import { describe, expect, it } from "vitest";
import { columnProblems } from "./columns.ts";

const group = {
  entities: [{ name: "user_id", type: "int64" as const }],
  features: [
    { name: "age", type: "int32" as const },
    { name: "tenure", type: "float64" as const },
    { name: "tags", type: "string_list" as const },
  ],
};
const fits = [
  { name: "user_id", type: "BIGINT" },
  { name: "age", type: "INTEGER" },
  { name: "tenure", type: "DOUBLE" },
  { name: "tags", type: "VARCHAR[]" },
  { name: "event_time", type: "TIMESTAMP" },
];

describe("columnProblems", () => {
  it("accepts a file with every column, in types that convert without loss", () => {
    expect(columnProblems(fits, group, "event_time")).toEqual([]);
    const widened = fits.map((c) =>
      c.name === "user_id" ? { ...c, type: "INTEGER" } : c.name === "tenure" ? { ...c, type: "FLOAT" } : c,
    );
    expect(columnProblems(widened, group, "event_time")).toEqual([]);
  });

  it.each([
    [
      "an unknown column",
      [...fits, { name: "agee", type: "INTEGER" }],
      "column agee is not in the group (entity keys: user_id; features: age, tenure, tags): rename or drop it",
    ],
    [
      "a missing feature",
      fits.filter((c) => c.name !== "tenure"),
      "column tenure (feature, float64) is missing",
    ],
    ["a missing key", fits.filter((c) => c.name !== "user_id"), "column user_id (entity key) is missing"],
    [
      "a narrowing type",
      fits.map((c) => (c.name === "age" ? { ...c, type: "BIGINT" } : c)),
      "column age is BIGINT, the group's age is int32",
    ],
    [
      "an event time that is not a time",
      fits.map((c) => (c.name === "event_time" ? { ...c, type: "VARCHAR" } : c)),
      "column event_time (the event time) is VARCHAR, it must be a timestamp",
    ],
    [
      "no event time",
      fits.filter((c) => c.name !== "event_time"),
      "column event_time (the event time) is missing (choose another with --event-time-column)",
    ],
  ])("names %s", (_what, file, problem) => {
    const problems = columnProblems(file, group, "event_time");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it("reports every problem at once", () => {
    const file = [{ name: "uid", type: "BIGINT" }, ...fits.slice(1, 3)];
    expect(columnProblems(file, group, "event_time")).toHaveLength(4);
  });
});
