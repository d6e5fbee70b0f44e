/**
 * Kafka pieces the data-plane services share: the publisher behind every "202 once Kafka acknowledged" API
 * (idempotent producers with acks=all, several sends in flight, group commit of concurrent callers), the
 * dead-letter topic name, error wording and a close that never waits.
 *
 * A send that fails (the broker is down, a topic is gone, a timeout) surfaces as KafkaUnavailable so an API
 * can answer 503 with Retry-After; the producer that sent it is then replaced, so a fresh idempotence
 * session starts once the broker is back.
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
  /** Most produce requests in flight at once, each from its own idempotent producer. @default 5 */
  maxInFlight?: number;
}

/** A publish call waiting for a produce request. */
interface Waiting {
  messages: readonly OutgoingMessage[];
  /** The topic of every message, or undefined when they span several. */
  topic: string | undefined;
  done: (error?: unknown) => void;
}

/** One idempotent producer with at most one send in flight. */
interface Lane {
  producer: Producer<string, string, string, string> | undefined;
  busy: boolean;
}

/**
 * Up to `maxInFlight` produce requests in flight, each from its own idempotent producer (a lane). The
 * client numbers a producer's batches when Kafka acknowledges them, so one producer can have only one
 * send in flight (two would carry the same sequence numbers); several producers, each with its own
 * producer id and sequence numbers, can.
 *
 * Publish calls wait in order of arrival; a free lane takes the oldest one together with the ones behind it
 * for the same topic (a group commit, up to `maxSend` messages), so concurrency becomes batch size once
 * every lane is busy. Order: a key's messages are never in two lanes at once (a call waits while a key of
 * its messages is in flight, and the calls behind it wait too), so messages with the same key reach Kafka in
 * the order `publish` was called. A produce that fails fails only the calls it carried, and its lane starts
 * a fresh producer.
 */
export class KafkaPublisher {
  private readonly settings: PublisherSettings;
  private readonly lanes: Lane[] = [];
  private readonly waiting: Waiting[] = [];
  /** Keys of the messages in flight, per topic. */
  private readonly keysInFlight = new Map<string, Set<string>>();
  private closed = false;

  constructor(settings: PublisherSettings) {
    this.settings = settings;
  }

  /** Resolves once Kafka acknowledged every message; throws KafkaUnavailable otherwise. */
  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const topic = messages[0]?.topic;
    const oneTopic = messages.every((m) => m.topic === topic);
    return new Promise((resolve, reject) => {
      this.waiting.push({
        messages,
        topic: oneTopic ? topic : undefined,
        done: (error) => (error ? reject(error) : resolve()),
      });
      this.drain();
    });
  }

  private drain(): void {
    const max = this.settings.maxSend ?? 5_000;
    for (;;) {
      const head = this.waiting[0];
      if (!head || this.hasKeyInFlight(head)) return;
      const lane = this.freeLane();
      if (!lane) return;
      const group: Waiting[] = [];
      let count = 0;
      for (;;) {
        const next = this.waiting[0];
        if (
          !next ||
          (group.length > 0 &&
            (next.topic === undefined ||
              next.topic !== head.topic ||
              count + next.messages.length > max ||
              this.hasKeyInFlight(next)))
        )
          break;
        this.waiting.shift();
        group.push(next);
        count += next.messages.length;
      }
      this.dispatch(lane, group);
    }
  }

  private hasKeyInFlight(call: Waiting): boolean {
    if (this.keysInFlight.size === 0) return false;
    for (const m of call.messages) if (this.keysInFlight.get(m.topic)?.has(m.key)) return true;
    return false;
  }

  private freeLane(): Lane | undefined {
    const free = this.lanes.find((l) => !l.busy);
    if (free) return free;
    if (this.lanes.length >= (this.settings.maxInFlight ?? 5)) return undefined;
    const lane: Lane = { producer: undefined, busy: false };
    this.lanes.push(lane);
    return lane;
  }

  private dispatch(lane: Lane, group: readonly Waiting[]): void {
    lane.busy = true;
    const messages = group.length === 1 ? (group[0]?.messages ?? []) : group.flatMap((g) => g.messages);
    this.markInFlight(messages, true);
    this.send(lane, messages)
      .then(
        () => {
          for (const g of group) g.done();
        },
        (error: unknown) => {
          for (const g of group) g.done(error);
        },
      )
      .finally(() => {
        this.markInFlight(messages, false);
        lane.busy = false;
        this.drain();
      });
  }

  private markInFlight(messages: readonly OutgoingMessage[], inFlight: boolean): void {
    for (const m of messages) {
      const keys = this.keysInFlight.get(m.topic);
      if (inFlight) {
        if (keys) keys.add(m.key);
        else this.keysInFlight.set(m.topic, new Set([m.key]));
      } else if (keys) {
        keys.delete(m.key);
        if (keys.size === 0) this.keysInFlight.delete(m.topic);
      }
    }
  }

  private producerOf(lane: Lane): Producer<string, string, string, string> {
    lane.producer ??= new Producer({
      clientId: this.settings.clientId,
      bootstrapBrokers: this.settings.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      timeout: this.settings.sendTimeoutMs,
      retries: 1,
      retryDelay: 250,
    });
    return lane.producer;
  }

  private async send(lane: Lane, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new KafkaUnavailable("the publisher is closing", 2);
    const producer = this.producerOf(lane);
    // The client reads the messages (topic, key, value, headers) and copies what it sends.
    const send = producer.send({ messages: messages as OutgoingMessage[] });
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
      // Whatever the producer's state now (sequence numbers of a failed batch), the lane's next send starts
      // afresh; the other lanes' producers are left alone.
      if (lane.producer === producer) lane.producer = undefined;
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
    this.closed = true;
    const producers = this.lanes.flatMap((l) => (l.producer ? [l.producer] : []));
    for (const lane of this.lanes) lane.producer = undefined;
    await Promise.all(producers.map((p) => p.close()));
  }
}
