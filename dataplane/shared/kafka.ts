/**
 * Kafka pieces the data-plane services share: the publisher behind every "202 once Kafka acknowledged" API
 * (an idempotent producer with acks=all, one send in flight, group commit of concurrent callers), the
 * dead-letter topic name, error wording and a close that never waits.
 *
 * A send that fails (the broker is down, a timeout) surfaces as KafkaUnavailable so an API can answer 503
 * with Retry-After; the producer is then replaced, so a fresh idempotence session starts once the broker is
 * back.
 */
import { ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";

/** The dead-letter topic of `topic`. */
export const dlqTopic = (topic: string) => `${topic}.dlq`;

/** The first specific reason inside the client's nested errors ("Producing messages failed." says little). */
export function describeKafkaError(error: unknown): string {
  const e = error as { message?: string; errors?: unknown[] };
  const inner = e.errors?.[0];
  return inner ? describeKafkaError(inner) : (e.message ?? String(error));
}

/** Kafka could not take the messages; the client should retry after `retryAfterSeconds`. */
export class KafkaUnavailable extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "KafkaUnavailable";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Closes a client without waiting for in-flight requests; never throws (it is being discarded). */
export function forceClose(client: {
  close(force: boolean, callback: (error?: Error) => void): void;
}): Promise<void> {
  return new Promise((resolve) => client.close(true, () => resolve()));
}

/** One record to publish. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface PublisherSettings {
  brokers: string[];
  clientId: string;
  /** How long one send may take before the caller is told to retry, in ms. */
  sendTimeoutMs: number;
  /** Most messages in one produce request. @default 5000 */
  maxSend?: number;
}

/**
 * One send in flight at a time: the client's idempotent producer numbers each partition's batches, and two
 * concurrent sends can reach the broker out of order (OUT_OF_ORDER_SEQUENCE_NUMBER). Messages that arrive
 * while a send is in flight are sent together in the next one (a group commit), so concurrency becomes
 * batch size.
 */
export class KafkaPublisher {
  private readonly settings: PublisherSettings;
  private producer: Producer<string, string, string, string> | undefined;
  private readonly waiting: Array<{ messages: readonly OutgoingMessage[]; done: (error?: unknown) => void }> =
    [];
  private sending = false;

  constructor(settings: PublisherSettings) {
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

  /** Resolves once Kafka acknowledged every message; throws KafkaUnavailable otherwise. */
  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, done: (error) => (error ? reject(error) : resolve()) });
      this.drain();
    });
  }

  private drain(): void {
    if (this.sending || this.waiting.length === 0) return;
    const max = this.settings.maxSend ?? 5_000;
    const group: typeof this.waiting = [];
    let count = 0;
    while (
      this.waiting.length > 0 &&
      (group.length === 0 || count + (this.waiting[0]?.messages.length ?? 0) <= max)
    ) {
      const next = this.waiting.shift();
      if (!next) break;
      group.push(next);
      count += next.messages.length;
    }
    this.sending = true;
    this.send(group.flatMap((g) => g.messages))
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

  private async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const producer = this.current();
    const send = producer.send({
      messages: messages.map((m) => ({
        topic: m.topic,
        key: m.key,
        value: m.value,
        ...(m.headers ? { headers: m.headers } : {}),
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
      throw new KafkaUnavailable(`Kafka did not acknowledge the messages: ${describeKafkaError(error)}`, 2, {
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
