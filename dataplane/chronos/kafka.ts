/**
 * Chronos on Kafka: the events topic (and its dead-letter topic) created when missing, and the publisher
 * the ingest API writes through. The producer is idempotent with acks=all: a 202 goes out only once every
 * in-sync replica has the event, and a retried send is not written twice. A send that fails (the broker is
 * down, a timeout) surfaces as KafkaUnavailable so the API can answer 503 with Retry-After; the producer is
 * then replaced, so a fresh idempotence session starts once the broker is back.
 */
import { Admin, ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";
import type { ChronosEvent } from "./event.ts";

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** Topic of events; its dead-letter topic is `<topic>.dlq`. */
  topic: string;
  /** Partitions of a topic created here. */
  partitions: number;
  /** How long one send may take before the caller is told to retry, in ms. */
  sendTimeoutMs: number;
}

export const dlqTopic = (topic: string) => `${topic}.dlq`;

/** Most events in one produce request. */
const MAX_SEND = 5_000;

/** The first specific reason inside the client's nested errors ("Producing messages failed." says little). */
export function describeKafkaError(error: unknown): string {
  const e = error as { message?: string; errors?: unknown[] };
  const inner = e.errors?.[0];
  return inner ? describeKafkaError(inner) : (e.message ?? String(error));
}

/** Kafka could not take the events; the client should retry after `retryAfterSeconds`. */
export class KafkaUnavailable extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "KafkaUnavailable";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Creates the events topic and its dead-letter topic unless they exist. */
export async function ensureTopics(settings: KafkaSettings): Promise<void> {
  const admin = new Admin({ clientId: `${settings.clientId}-admin`, bootstrapBrokers: settings.brokers });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [settings.topic, dlqTopic(settings.topic)].filter((t) => !existing.has(t));
    if (missing.length > 0)
      await admin
        .createTopics({ topics: missing, partitions: settings.partitions, replicas: 1 })
        .catch((error: Error) => {
          // Another replica created it between the list and the create.
          if (!/already exists/i.test(`${error.message} ${JSON.stringify(error)}`)) throw error;
        });
  } finally {
    await admin.close();
  }
}

/** Closes a client without waiting for in-flight requests; never throws (it is being discarded). */
export function forceClose(client: {
  close(force: boolean, callback: (error?: Error) => void): void;
}): Promise<void> {
  return new Promise((resolve) => client.close(true, () => resolve()));
}

/**
 * One send in flight at a time: the client's idempotent producer numbers each partition's batches, and two
 * concurrent sends can reach the broker out of order (OUT_OF_ORDER_SEQUENCE_NUMBER). Events that arrive while
 * a send is in flight are sent together in the next one (a group commit), so concurrency becomes batch size.
 */
export class EventPublisher {
  private readonly settings: KafkaSettings;
  private producer: Producer<string, string, string, string> | undefined;
  private readonly waiting: Array<{ events: readonly ChronosEvent[]; done: (error?: unknown) => void }> = [];
  private sending = false;

  constructor(settings: KafkaSettings) {
    this.settings = settings;
  }

  private current(): Producer<string, string, string, string> {
    this.producer ??= new Producer({
      clientId: this.settings.clientId,
      bootstrapBrokers: this.settings.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      timeout: this.settings.sendTimeoutMs,
      retries: 1,
      retryDelay: 250,
    });
    return this.producer;
  }

  /** Resolves once Kafka acknowledged all the events; throws KafkaUnavailable otherwise. */
  publish(events: readonly ChronosEvent[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, done: (error) => (error ? reject(error) : resolve()) });
      this.drain();
    });
  }

  private drain(): void {
    if (this.sending || this.waiting.length === 0) return;
    const group: typeof this.waiting = [];
    let count = 0;
    while (
      this.waiting.length > 0 &&
      (group.length === 0 || count + (this.waiting[0]?.events.length ?? 0) <= MAX_SEND)
    ) {
      const next = this.waiting.shift();
      if (!next) break;
      group.push(next);
      count += next.events.length;
    }
    this.sending = true;
    this.send(group.flatMap((g) => g.events))
      .then(
        () => {
          for (const g of group) g.done();
        },
        (error: unknown) => {
          for (const g of group) g.done(error);
        },
      )
      .finally(() => {
        this.sending = false;
        this.drain();
      });
  }

  private async send(events: readonly ChronosEvent[]): Promise<void> {
    const producer = this.current();
    const send = producer.send({
      messages: events.map((event) => ({
        topic: this.settings.topic,
        // One partition per tenant and source: the processor sees a source's events in the order they were sent.
        key: `${event.namespace}/${event.source}`,
        value: JSON.stringify(event),
      })),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no acknowledgement within ${this.settings.sendTimeoutMs} ms`)),
        this.settings.sendTimeoutMs,
      );
    });
    try {
      await Promise.race([send, timeout]);
    } catch (error) {
      // Whatever the producer's state now (sequence numbers of a failed batch), the next send starts afresh.
      if (this.producer === producer) this.producer = undefined;
      void forceClose(producer);
      send.catch(() => undefined);
      throw new KafkaUnavailable(`Kafka did not acknowledge the events: ${describeKafkaError(error)}`, 2, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }
}
