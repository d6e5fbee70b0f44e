import { describe, expect, it } from "vitest";
import { progressLine } from "./progress.ts";

describe("progressLine", () => {
  it.each([
    [{ rows: 4096, total: 10_000, elapsedMs: 2000 }, "4,096/10,000 rows (40%), 2,048 rows/s, ETA 3s"],
    [{ rows: 10_000, total: 10_000, elapsedMs: 4000 }, "10,000/10,000 rows (100%), 2,500 rows/s, ETA 0s"],
    [
      { rows: 1000, total: 1_000_000, elapsedMs: 1000 },
      "1,000/1,000,000 rows (0%), 1,000 rows/s, ETA 16m39s",
    ],
    [
      { rows: 1000, total: 10_000_000, elapsedMs: 1000 },
      "1,000/10,000,000 rows (0%), 1,000 rows/s, ETA 2h46m",
    ],
    [{ rows: 0, total: 10, elapsedMs: 0 }, "0/10 rows (0%), 0 rows/s, ETA -"],
  ])("%o reads %s", (progress, line) => {
    expect(progressLine(progress)).toBe(line);
  });
});
