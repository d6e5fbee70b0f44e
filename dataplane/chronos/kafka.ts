/**
 * Chronos on Kafka: the events topic (and its dead-letter topic) created when missing, and the publisher
 * the ingest API writes through (the shared KafkaPublisher: idempotent, acks=all, KafkaUnavailable when
 * the broker does not acknowledge, so the API answers 503 with Retry-After).
 */
import { Admin } from "@platformatic/kafka";
import { dlqTopic, KafkaPublisher } from "../shared/kafka.ts";
import type { ChronosEvent } from "./event.ts";

export { dlqTopic, forceClose, KafkaUnavailable } from "../shared/kafka.ts";

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

/** Publishes Chronos events to the events topic through the shared publisher. */
export class EventPublisher {
  private readonly topic: string;
  private readonly publisher: KafkaPublisher;

  constructor(settings: KafkaSettings) {
    this.topic = settings.topic;
    this.publisher = new KafkaPublisher(settings);
  }

  /** Resolves once Kafka acknowledged all the events; throws KafkaUnavailable otherwise. */
  publish(events: readonly ChronosEvent[]): Promise<void> {
    return this.publisher.publish(
      events.map((event) => ({
        topic: this.topic,
        // One partition per tenant and source: the processor sees a source's events in the order they were sent.
        key: `${event.namespace}/${event.source}`,
        value: JSON.stringify(event),
      })),
    );
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
