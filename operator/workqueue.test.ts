import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./workqueue.ts";

/** Takes every key that is ready now, without waiting. */
async function drainReady(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.length > 0) {
    const key = await queue.get();
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

describe("WorkQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("queues a key once however often it is added", async () => {
    const queue = new WorkQueue();
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    expect(queue.length).toBe(2);
    expect(await drainReady(queue)).toEqual(["ns/a", "ns/b"]);
  });

  it("hands a key to one worker at a time and runs it again when re-added during its reconcile", async () => {
    const queue = new WorkQueue();
    queue.add("ns/a");
    const key = await queue.get();
    expect(key).toBe("ns/a");
    queue.add("ns/a");
    queue.add("ns/a");
    // in flight: a second worker must not get it
    expect(queue.length).toBe(0);
    let second: string | undefined;
    void queue.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done("ns/a");
    await Promise.resolve();
    expect(second).toBe("ns/a");
    queue.done("ns/a");
    expect(queue.length).toBe(0);
    expect(queue.inFlight).toBe(0);
  });

  it("does not run a key again when it was not re-added during its reconcile", async () => {
    const queue = new WorkQueue();
    queue.add("k");
    await queue.get();
    queue.done("k");
    expect(queue.length).toBe(0);
  });

  it("backs off per key exponentially from 5 ms up to 5 minutes", async () => {
    const queue = new WorkQueue();
    expect(queue.nextDelay("k")).toBe(5);
    const observed: number[] = [];
    for (let i = 0; i < 18; i++) {
      const delay = queue.nextDelay("k");
      observed.push(delay);
      queue.addRateLimited("k");
      vi.advanceTimersByTime(delay - 1);
      expect(queue.length).toBe(0);
      vi.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      await queue.get();
      queue.done("k");
    }
    expect(observed.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(observed.at(-1)).toBe(300_000);
    for (let i = 1; i < observed.length; i++)
      expect(observed[i]).toBeGreaterThanOrEqual(observed[i - 1] ?? 0);
    // other keys have their own history
    expect(queue.nextDelay("other")).toBe(5);
    queue.forget("k");
    expect(queue.nextDelay("k")).toBe(5);
  });

  it("adds a key after the requested delay, keeping the earliest of two schedules", () => {
    const queue = new WorkQueue();
    queue.addAfter("k", 1000);
    queue.addAfter("k", 300);
    queue.addAfter("k", 2000);
    vi.advanceTimersByTime(299);
    expect(queue.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(queue.length).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(queue.length).toBe(1);
  });

  it("after shutdown hands out nothing, drops pending keys and drains in-flight work", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    queue.add("b");
    queue.addAfter("c", 10);
    const a = await queue.get();
    const waiting = new WorkQueue();
    const waiter = waiting.get();
    waiting.shutDown();
    expect(await waiter).toBeUndefined();

    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
    expect(queue.length).toBe(0);
    let drained = false;
    void queue.drain().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    queue.add("d");
    queue.done(a ?? "");
    await Promise.resolve();
    expect(drained).toBe(true);
    vi.advanceTimersByTime(100);
    expect(queue.length).toBe(0);
  });

  it("reports depth, adds, retries and durations", async () => {
    const seen = { depth: [] as number[], added: 0, retried: 0, queued: 0, worked: 0 };
    const queue = new WorkQueue({
      observer: {
        depth: (n) => seen.depth.push(n),
        added: () => seen.added++,
        retried: () => seen.retried++,
        queued: () => seen.queued++,
        worked: () => seen.worked++,
      },
    });
    queue.add("a");
    queue.add("a");
    queue.add("b");
    const key = await queue.get();
    queue.addRateLimited(key ?? "");
    queue.done(key ?? "");
    expect(seen.added).toBe(2);
    expect(seen.retried).toBe(1);
    expect(seen.queued).toBe(1);
    expect(seen.worked).toBe(1);
    expect(seen.depth.at(-1)).toBe(1);
  });

  it("limits retries of the whole queue to 10 per second after a burst of 100, on top of each key's backoff", async () => {
    const queue = new WorkQueue();
    // 100 different keys fail at once: the burst lets each retry after its own 5 ms.
    for (let i = 0; i < 100; i++) expect(queue.nextDelay(`k${i}`)).toBe(5);
    for (let i = 0; i < 100; i++) queue.addRateLimited(`k${i}`);
    // The burst is spent: further retries are spaced 100 ms apart, whatever the keys' own backoff.
    expect(queue.nextDelay("k100")).toBe(100);
    queue.addRateLimited("k100");
    queue.addRateLimited("k101");
    vi.advanceTimersByTime(5);
    expect(queue.length).toBe(100);
    vi.advanceTimersByTime(94);
    expect(queue.length).toBe(100);
    vi.advanceTimersByTime(1);
    expect(queue.length).toBe(101);
    vi.advanceTimersByTime(100);
    expect(queue.length).toBe(102);
    // Tokens come back at 10 per second: after 10 s the burst is full again.
    vi.advanceTimersByTime(10_000);
    expect(queue.nextDelay("k102")).toBe(5);
  });
});
