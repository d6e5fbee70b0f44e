/**
 * Exponential backoff: the delay before the n-th retry doubles from a base up to a cap. The work queue uses
 * it per key (deterministic, so tests can assert the growth); watches add jitter so many informers that
 * lost the same apiserver do not reconnect in lock-step.
 */

export interface BackoffOptions {
  /** Delay before the first retry. */
  baseMs: number;
  /** Longest delay. */
  maxMs: number;
}

/** Delay before retry number `failures` (0 for the first retry): base * 2^failures, capped. */
export function exponentialDelay(failures: number, { baseMs, maxMs }: BackoffOptions): number {
  // 2^60 overflows nothing in float64 but is far beyond any cap; clamp the exponent to keep it finite.
  const exponent = Math.min(Math.max(failures, 0), 60);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

export interface RateLimitOptions {
  /** Tokens added per second. */
  qps: number;
  /** Most tokens held: how many may pass at once after a quiet spell. */
  burst: number;
}

/**
 * A token bucket (golang.org/x/time/rate's semantics): each reservation takes a token, and when none is
 * left it is granted later, as tokens come back at `qps`. The work queue spaces the retries of all its keys
 * with one, as controller-runtime's default rate limiter does, so a failure that hits every object at once
 * (the apiserver down) cannot turn into a storm of retries.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly options: RateLimitOptions;

  constructor(options: RateLimitOptions, now = Date.now()) {
    this.options = options;
    this.tokens = options.burst;
    this.updatedAt = now;
  }

  /** The wait a reservation made now would get, without making it. */
  delay(now = Date.now()): number {
    return this.waitFor(this.available(now) - 1);
  }

  /** Takes a token; returns how long to wait before using it (0 when one was there). */
  reserve(now = Date.now()): number {
    this.tokens = this.available(now) - 1;
    this.updatedAt = now;
    return this.waitFor(this.tokens);
  }

  private available(now: number): number {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    return Math.min(this.options.burst, this.tokens + elapsed * this.options.qps);
  }

  private waitFor(tokensAfter: number): number {
    return tokensAfter >= 0 ? 0 : Math.ceil((-tokensAfter / this.options.qps) * 1000);
  }
}

/** A restartable backoff with up to 20% of random jitter, for reconnecting watches. */
export class JitteredBackoff {
  private failures = 0;
  private readonly options: BackoffOptions;
  private readonly random: () => number;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.options = options;
    this.random = random;
  }

  /** The delay to wait now; each call lengthens the next one. */
  next(): number {
    const delay = exponentialDelay(this.failures, this.options);
    this.failures += 1;
    return Math.round(delay * (1 + 0.2 * this.random()));
  }

  /** Called after a success: the next failure starts from the base delay again. */
  reset(): void {
    this.failures = 0;
  }
}

/** Resolves after `ms`, or early (without rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
