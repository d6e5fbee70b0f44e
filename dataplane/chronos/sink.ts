/**
 * How the operator publishes its own events to Chronos. An EventSink takes an event and returns at once;
 * the HTTP sink queues events (bounded) and posts them in batches to Chronos's ingest API, retrying with
 * backoff while Chronos or Kafka is unavailable, so a reconcile never waits for, or fails because of, event
 * delivery. Event ids are deterministic, so a batch posted twice is stored once.
 */
import type { Logger } from "pino";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { EventInput } from "./event.ts";

export interface EventSink {
  /** Queues an event for delivery; never throws, never blocks. */
  publish(event: EventInput & { id: string; namespace: string }): void;
  /** Delivers what is queued (up to `timeoutMs`), then stops. */
  close(timeoutMs?: number): Promise<void>;
}

export interface HttpEventSinkOptions {
  /** Base URL of the Chronos service, e.g. http://chronos.darwin-system.svc:8080. */
  url: string;
  /** The Authorization header value to send (a bearer token of the publishing identity). */
  authorization: () => Promise<string | undefined>;
  log: Logger;
  /** Events kept while Chronos is unreachable; the oldest are dropped beyond it. @default 10000 */
  maxQueue?: number;
  /** Events per request. @default 100 */
  batchSize?: number;
  /** Longest pause between retries. @default 10 s */
  maxBackoffMs?: number;
}

export class HttpEventSink implements EventSink {
  private readonly options: HttpEventSinkOptions;
  private readonly queue: Array<EventInput & { id: string; namespace: string }> = [];
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  /** Counts for logs and tests. */
  readonly stats = { delivered: 0, dropped: 0, retries: 0 };

  constructor(options: HttpEventSinkOptions) {
    this.options = options;
  }

  publish(event: EventInput & { id: string; namespace: string }): void {
    if (this.closed) return;
    this.queue.push(event);
    const max = this.options.maxQueue ?? 10_000;
    if (this.queue.length > max) {
      this.queue.splice(0, this.queue.length - max);
      this.stats.dropped++;
      this.options.log.warn({ max }, "Dropped the oldest Chronos event: the queue is full");
    }
    this.schedule(0);
  }

  async close(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await (this.sending ?? new Promise((resolve) => setTimeout(resolve, 50)));
    }
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.sending || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.flush().finally(() => {
        this.sending = undefined;
        if (this.queue.length > 0) this.schedule(this.backoff());
      });
    }, delayMs);
    this.timer.unref();
  }

  private backoff(): number {
    return this.failures === 0
      ? 0
      : Math.min(250 * 2 ** (this.failures - 1), this.options.maxBackoffMs ?? 10_000);
  }

  private async flush(): Promise<void> {
    const batch = this.queue.slice(0, this.options.batchSize ?? 100);
    if (batch.length === 0) return;
    try {
      const authorization = await this.options.authorization();
      const response = await fetch(new URL("/chronos/api/v1/events", this.options.url), {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization && { authorization }) },
        body: JSON.stringify({ events: batch }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      if (
        response.status >= 400 &&
        response.status < 500 &&
        response.status !== 429 &&
        response.status !== 401
      ) {
        // Chronos refuses these events as they are: retrying cannot help.
        this.queue.splice(0, batch.length);
        this.stats.dropped += batch.length;
        this.options.log.error(
          { status: response.status, answer: text.slice(0, 500) },
          "Chronos refused events",
        );
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
      this.queue.splice(0, batch.length);
      this.stats.delivered += batch.length;
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.stats.retries++;
      this.options.log.debug(
        { err: error, queued: this.queue.length },
        "Could not deliver events to Chronos yet",
      );
    }
  }
}

/**
 * The operator's sink, when DARWIN_CHRONOS_URL names the Chronos service: events are posted with the
 * credentials of the process's Kubernetes client (its kubeconfig user, or the in-cluster service-account
 * token, asked per batch: tokens rotate), which Chronos checks like any other client's.
 */
export function chronosSinkFromEnv(
  log: Logger,
  client: Pick<KubeClient, "authorization">,
  env: NodeJS.ProcessEnv = process.env,
): EventSink | undefined {
  const url = env.DARWIN_CHRONOS_URL;
  if (!url) return undefined;
  log.info({ url }, "Publishing lifecycle events to Chronos");
  return new HttpEventSink({
    url,
    log: log.child({ component: "chronos-sink" }),
    authorization: () => client.authorization(),
  });
}
