import { describe, expect, it } from "vitest";
import { formatBytes, memoryBytes, memoryQuantity } from "./memory.ts";

describe("memory", () => {
  it("reads quantities, bare numbers meaning GiB", () => {
    expect(memoryBytes(8)).toBe(8 * 2 ** 30);
    expect(memoryBytes("8")).toBe(8 * 2 ** 30);
    expect(memoryBytes("0.5")).toBe(2 ** 29);
    expect(memoryBytes("512Mi")).toBe(512 * 2 ** 20);
    expect(memoryBytes("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(memoryBytes("2G")).toBe(2e9);
    expect(memoryBytes("8GB")).toBeUndefined();
    expect(memoryBytes("0")).toBeUndefined();
  });

  it("renders container quantities and short sizes", () => {
    expect(memoryQuantity(8)).toBe("8Gi");
    expect(memoryQuantity("0.5")).toBe("0.5Gi");
    expect(memoryQuantity("512Mi")).toBe("512Mi");
    expect(formatBytes(1.5 * 2 ** 30)).toBe("1.5Gi");
    expect(formatBytes(100e6)).toBe("95.37Mi");
  });
});
