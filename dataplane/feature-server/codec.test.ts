import { describe, expect, it } from "vitest";
import { decodeKey, decodeValue, encodeKey } from "./codec.ts";

describe("key values", () => {
  it("accepts each entity type's JSON forms and says what is wrong otherwise", () => {
    expect(encodeKey("int64", 123)).toEqual({ ok: true, value: 123n });
    expect(encodeKey("int64", "9007199254740993")).toEqual({ ok: true, value: 9007199254740993n });
    expect(encodeKey("int64", 1.5)).toMatchObject({ ok: false, problem: expect.stringContaining("int64") });
    expect(encodeKey("int64", "9223372036854775808")).toMatchObject({ ok: false });
    expect(encodeKey("int32", 2 ** 31)).toMatchObject({
      ok: false,
      problem: expect.stringContaining("int32"),
    });
    expect(encodeKey("string", 5)).toEqual({ ok: false, problem: "must be a string" });
    expect(encodeKey("bytes", "AQI=")).toEqual({ ok: true, value: Buffer.from([1, 2]) });
    expect(encodeKey("bytes", "not base64!")).toMatchObject({ ok: false });
  });

  it("echoes keys in their JSON form", () => {
    expect(decodeKey("int64", 5n)).toBe(5);
    expect(decodeKey("int64", 9007199254740993n)).toBe("9007199254740993");
    expect(decodeKey("bytes", Buffer.from([1, 2]))).toBe("AQI=");
  });
});

describe("stored values", () => {
  it("become plain JSON", () => {
    expect(decodeValue("float32", Math.fround(0.1))).toBe(0.1);
    expect(decodeValue("float32_list", [Math.fround(1.7), 2])).toEqual([1.7, 2]);
    expect(decodeValue("int64", 42n)).toBe(42);
    expect(decodeValue("int64_list", [1n, 2n ** 60n])).toEqual([1, "1152921504606846976"]);
    expect(decodeValue("timestamp", new Date("2026-01-01T00:00:00Z"))).toBe("2026-01-01T00:00:00.000Z");
    expect(decodeValue("bytes", Buffer.from("hi"))).toBe("aGk=");
    expect(decodeValue("string", null)).toBeNull();
  });
});
