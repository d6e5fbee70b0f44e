import { describe, expect, it } from "vitest";
import { createMergePatch, jsonEqual } from "./json.ts";

describe("jsonEqual", () => {
  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: "1" }, false],
    [[1, 2], [2, 1], false],
    [{ a: null }, {}, false],
    [null, null, true],
  ])("compares %j and %j", (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
  });
});

describe("createMergePatch", () => {
  it("is undefined when nothing changed", () => {
    expect(createMergePatch({ a: { b: [1] } }, { a: { b: [1] } })).toBeUndefined();
  });

  it("sets changed and added keys, nulls removed ones and replaces arrays whole", () => {
    const from = { keep: 1, change: 1, drop: 1, nested: { x: 1, y: 2 }, list: [{ n: 1 }, { n: 2 }] };
    const to = { keep: 1, change: 2, add: 3, nested: { x: 1 }, list: [{ n: 1 }] };
    expect(createMergePatch(from, to)).toEqual({
      change: 2,
      drop: null,
      add: 3,
      nested: { y: null },
      list: [{ n: 1 }],
    });
  });
});
