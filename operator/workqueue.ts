/**
 * The work queue between informers and reconcilers, with client-go's guarantees:
 * - a key is queued at most once however often it is added (de-duplication);
 * - a key is handed to at most one worker at a time; a key added while it is being reconciled is queued
 *   again when that reconcile is done, so the change it signals is never lost;
 * - failures back off per key exponentially (5 ms doubling up to 5 min by default) until forget(), and
 *   the retries of all keys together pass a token bucket (10 per second, bursts of 100 by default): a
 *   retry waits for the longer of the two, as with controller-runtime's default rate limiter;
 * - addAfter() schedules a key (requeue-after), keeping the earliest of several schedules.
 */
import { type BackoffOptions, exponentialDelay, type RateLimitOptions, TokenBucket } from "./backoff.ts";

/** What the queue reports; metrics.ts implements it with Prometheus metrics. */
export interface WorkQueueObserver {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker spent on a key. */
  worked(seconds: number): void;
}

export interface WorkQueueOptions {
  backoff?: BackoffOptions | undefined;
  /** The limit on retries of all keys together. */
  rateLimit?: RateLimitOptions | undefined;
  observer?: WorkQueueObserver | undefined;
}

export const DEFAULT_QUEUE_BACKOFF: BackoffOptions = { baseMs: 5, maxMs: 5 * 60_000 };
export const DEFAULT_QUEUE_RATE_LIMIT: RateLimitOptions = { qps: 10, burst: 100 };

export class WorkQueue {
  /** Keys waiting for a worker, in order. */
  private readonly queue: string[] = [];
  /** Keys that need processing: queued, or added again while processing. */
  private readonly dirty = new Set<string>();
  /** Keys a worker holds, with when it took them. */
  private readonly processing = new Map<string, number>();
  private readonly enqueuedAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly backoff: BackoffOptions;
  private readonly bucket: TokenBucket;
  private readonly observer: WorkQueueObserver | undefined;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.backoff = options.backoff ?? DEFAULT_QUEUE_BACKOFF;
    this.bucket = new TokenBucket(options.rateLimit ?? DEFAULT_QUEUE_RATE_LIMIT);
    this.observer = options.observer;
  }

  /** Marks a key as needing a reconcile. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.observer?.added();
    if (this.processing.has(key)) return; // done() queues it again
    this.push(key);
  }

  /** Adds the key after a delay; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, { at, timer });
  }

  /**
   * Adds the key after the longer of its backoff delay and the queue's rate limit, and lengthens the
   * delay of its next failure.
   */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.observer?.retried();
    this.addAfter(key, Math.max(exponentialDelay(failures, this.backoff), this.bucket.reserve()));
  }

  /** The delay addRateLimited() would use now for this key. */
  nextDelay(key: string): number {
    return Math.max(exponentialDelay(this.failures.get(key) ?? 0, this.backoff), this.bucket.delay());
  }

  /** Clears the key's failure history (after a success or a terminal error). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many consecutive failures the key has had. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue shuts down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Releases a key taken with get(); if it was added meanwhile it is queued again. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.observer?.worked((Date.now() - startedAt) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Keys waiting for a worker. */
  get length(): number {
    return this.queue.length;
  }

  /** Keys being processed now. */
  get inFlight(): number {
    return this.processing.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops handing out keys (waiting workers get undefined) and drops pending ones: they are level-based
   * and the next start lists everything again. Keys in flight finish; drain() waits for them.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.observer?.depth(0);
    for (const wake of this.waiters.splice(0)) wake(undefined);
  }

  /** Resolves when no key is being processed. */
  drain(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private push(key: string): void {
    this.enqueuedAt.set(key, Date.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(key));
      return;
    }
    this.queue.push(key);
    this.observer?.depth(this.queue.length);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    const now = Date.now();
    this.processing.set(key, now);
    const enqueuedAt = this.enqueuedAt.get(key);
    this.enqueuedAt.delete(key);
    if (enqueuedAt !== undefined) this.observer?.queued((now - enqueuedAt) / 1000);
    this.observer?.depth(this.queue.length);
    return key;
  }
}
