import { describe, expect, it } from "vitest";
import { planQueue, type QueueEntry } from "./queue.ts";

const entry = (key: string, created: string, state: QueueEntry["state"] = "waiting"): QueueEntry => ({
  key,
  namespace: key.split("/")[0] ?? "",
  created,
  state,
});

describe("planQueue", () => {
  it("starts the oldest builds up to the cluster-wide limit and numbers the rest from 1", () => {
    const plan = planQueue(
      [
        entry("a/c", "2026-01-01T00:00:03Z"),
        entry("a/a", "2026-01-01T00:00:01Z"),
        entry("a/b", "2026-01-01T00:00:02Z"),
      ],
      { maxConcurrent: 1, maxConcurrentPerNamespace: 5 },
    );
    expect([...plan.start]).toEqual(["a/a"]);
    expect(Object.fromEntries(plan.positions)).toEqual({ "a/b": 1, "a/c": 2 });
  });

  it("counts running builds against the limits", () => {
    const plan = planQueue(
      [
        entry("a/run", "2026-01-01T00:00:00Z", "active"),
        entry("a/x", "2026-01-01T00:00:01Z"),
        entry("a/y", "2026-01-01T00:00:02Z"),
        entry("a/z", "2026-01-01T00:00:03Z"),
      ],
      { maxConcurrent: 1, maxConcurrentPerNamespace: 1 },
    );
    expect(plan.start.size).toBe(0);
    expect(Object.fromEntries(plan.positions)).toEqual({ "a/x": 1, "a/y": 2, "a/z": 3 });
  });

  it("lets another namespace start while one is at its own limit", () => {
    const plan = planQueue(
      [
        entry("a/run", "2026-01-01T00:00:00Z", "active"),
        entry("a/next", "2026-01-01T00:00:01Z"),
        entry("b/x", "2026-01-01T00:00:02Z"),
      ],
      { maxConcurrent: 3, maxConcurrentPerNamespace: 1 },
    );
    expect([...plan.start]).toEqual(["b/x"]);
    expect(Object.fromEntries(plan.positions)).toEqual({ "a/next": 1 });
  });

  it("orders builds made in the same second by key", () => {
    const plan = planQueue([entry("a/b", "2026-01-01T00:00:01Z"), entry("a/a", "2026-01-01T00:00:01Z")], {
      maxConcurrent: 1,
      maxConcurrentPerNamespace: 1,
    });
    expect([...plan.start]).toEqual(["a/a"]);
  });
});
