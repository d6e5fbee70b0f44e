import { describe, expect, it } from "vitest";
import {
  asOfJoinSql,
  entityColumns,
  entityRowProblems,
  filesInRange,
  rfc3339Micros,
  type TrainingSetGroup,
  TrainingSetInputError,
} from "./training-set.ts";

const users: TrainingSetGroup = {
  group: {
    namespace: "team-a",
    group: "user-features",
    version: 1,
    entities: [{ name: "user_id", type: "int64" }],
    features: [
      { name: "age", type: "int32" },
      { name: "tenure", type: "float64" },
    ],
  },
  ttlSeconds: 3600,
  features: [{ column: { name: "age", type: "int32" }, as: "age" }],
};

describe("training sets", () => {
  it("joins each group as of the row's time, nulling values older than the TTL, in input order", () => {
    const forever = { ...users, ttlSeconds: 0 };
    expect(asOfJoinSql([users, forever], "ts")).toBe(
      'SELECT e.* EXCLUDE (__row), CASE WHEN g0.__t >= e."ts" - INTERVAL 3600 SECOND THEN g0."age" END AS "age", ' +
        'CASE WHEN g1.__t IS NOT NULL THEN g1."age" END AS "age" FROM entities e ' +
        'ASOF LEFT JOIN g0 ON e."user_id" = g0."user_id" AND e."ts" >= g0.__t ' +
        'ASOF LEFT JOIN g1 ON e."user_id" = g1."user_id" AND e."ts" >= g1.__t ORDER BY e.__row',
    );
  });

  it("reads RFC 3339 times to the microsecond, in any offset", () => {
    const base = BigInt(Date.parse("2026-01-31T12:00:00Z")) * 1000n;
    expect(rfc3339Micros("2026-01-31T12:00:00Z")).toBe(base);
    expect(rfc3339Micros("2026-01-31T12:00:00.000001Z")).toBe(base + 1n);
    expect(rfc3339Micros("2026-01-31T13:00:00.5+01:00")).toBe(base + 500_000n);
    expect(rfc3339Micros("2026-01-31 12:00:00")).toBeUndefined();
    expect(rfc3339Micros("yesterday")).toBeUndefined();
  });

  it("names each bad entity row field", () => {
    const keys = entityColumns([users]);
    expect(
      entityRowProblems(
        [
          { user_id: 1, ts: "2026-01-31T12:00:00Z" },
          { ts: "2026-01-31T12:00:00Z" },
          { user_id: 1.5, ts: "2026-01-31" },
          { user_id: "12", ts: "2026-01-31T12:00:00Z", label: 1 },
        ],
        keys,
        "ts",
      ),
    ).toEqual([
      "entity_rows[1].user_id: missing (every row needs the entity keys user_id)",
      "entity_rows[2].user_id: must be an int64 (a whole number, or a decimal string beyond 2^53)",
      "entity_rows[2].ts: must be an RFC 3339 time such as 2026-01-31T12:00:00Z",
      "entity_rows[3].label: not an entity key of the requested groups nor the timestamp",
    ]);
  });

  it("refuses groups whose shared key has different types", () => {
    const other = {
      ...users,
      group: { ...users.group, group: "sessions", entities: [{ name: "user_id", type: "string" as const }] },
    };
    expect(() => entityColumns([users, other])).toThrow(TrainingSetInputError);
  });

  it("joins a group whose rows set some features once per feature, over the rows that set it", () => {
    const two = {
      ...users,
      features: [...users.features, { column: { name: "tenure", type: "float64" as const }, as: "t" }],
    };
    expect(asOfJoinSql([two], "ts", [true])).toBe(
      'SELECT e.* EXCLUDE (__row), CASE WHEN g0_0.__t >= e."ts" - INTERVAL 3600 SECOND THEN g0_0."age" END AS "age", ' +
        'CASE WHEN g0_1.__t >= e."ts" - INTERVAL 3600 SECOND THEN g0_1."tenure" END AS "t" FROM entities e ' +
        'ASOF LEFT JOIN (SELECT "user_id", __t, "age" FROM g0 WHERE __set IS NULL OR list_contains(__set, \'age\')) g0_0 ' +
        'ON e."user_id" = g0_0."user_id" AND e."ts" >= g0_0.__t ' +
        'ASOF LEFT JOIN (SELECT "user_id", __t, "tenure" FROM g0 WHERE __set IS NULL OR list_contains(__set, \'tenure\')) g0_1 ' +
        'ON e."user_id" = g0_1."user_id" AND e."ts" >= g0_1.__t ORDER BY e.__row',
    );
  });
});

describe("training set file selection", () => {
  const at = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
  const key = (date: string, n = 1) =>
    `features/tenant=team-a/group=user-features/version=1/date=${date}/part-${n}-abcd1234.parquet`;
  const keys = ["2026-11-20", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"].map((d) =>
    key(d),
  );

  it("reads the dates from the earliest row minus the TTL to the latest row", () => {
    // Rows from 25 Nov 10:00 to 27 Nov 08:00, TTL one day: events from 24 Nov 10:00 on can be taken.
    const from = at("2026-11-25T10:00:00Z") - 86_400_000_000n;
    expect(filesInRange(keys, from, at("2026-11-27T08:00:00Z"))).toEqual([
      key("2026-11-24"),
      key("2026-11-25"),
      key("2026-11-26"),
      key("2026-11-27"),
    ]);
  });

  it("keeps the latest row's own date, to the last microsecond of the day, and no later date", () => {
    const end = at("2026-11-26T23:59:59.999Z") + 999n;
    expect(filesInRange(keys, end, end)).toEqual([key("2026-11-26")]);
    expect(filesInRange(keys, end + 1n, end + 1n)).toEqual([key("2026-11-27")]);
  });

  it("reads every earlier date when values never expire (TTL 0), and files outside a date partition", () => {
    const odd = "features/tenant=team-a/group=user-features/version=1/part-1-x.parquet";
    expect(filesInRange([...keys, odd], undefined, at("2026-11-25T00:00:00Z"))).toEqual([
      key("2026-11-20"),
      key("2026-11-24"),
      key("2026-11-25"),
      odd,
    ]);
  });
});
