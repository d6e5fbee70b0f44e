/**
 * The Chronos processor: a consumer group on the events topic. For each event it runs every
 * ChronosTransformer that selects it, writes the event, the entities and relationships and the rules' counts
 * in one MariaDB transaction (idempotent by event id), sends each rule failure to the dead-letter topic with
 * the reason in its headers, and only then commits the offset. Rules come from a watch on
 * ChronosTransformers; their status (counts, last error, Ready) is written every `statusIntervalMs`.
 */
import {
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import type { Logger } from "pino";
import { z } from "zod";
import { darwinResource } from "../../controllers/shared/resource-types.ts";
import type { Condition } from "../../crds/src/index.ts";
import { ChronosTransformer } from "../../crds/src/index.ts";
import { Informer } from "../../operator/informer.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { patchStatus } from "../../operator/status.ts";
import type { Pool } from "../shared/mysql.ts";
import { type ChronosEvent, chronosEvent } from "./event.ts";
import { dlqTopic, forceClose } from "./kafka.ts";
import { computeTransformerStatus } from "./status.ts";
import { type RuleOutcome, recordEvent, transformerStats } from "./store.ts";
import {
  applyTransformer,
  type BrokenTransformer,
  type CompiledTransformer,
  compileTransformer,
  isCompiled,
  selectTransformers,
} from "./transform.ts";

export const CHRONOS_TRANSFORMERS = darwinResource(ChronosTransformer);

/** Headers of a dead-letter message; its value is the event as it was on the events topic. */
export const DLQ_HEADERS = {
  reason: "darwin-dlq-reason",
  transformer: "darwin-dlq-transformer",
  eventId: "darwin-event-id",
  failedAt: "darwin-dlq-failed-at",
} as const;

export interface ProcessorOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  pool: Pool;
  client: KubeClient;
  log: Logger;
  /** Rules in this namespace apply to every namespace's events. */
  systemNamespace: string;
  /** How often rule status is written. */
  statusIntervalMs: number;
  /** Watch rules in one namespace only (tests); all namespaces when undefined. */
  watchNamespace?: string | undefined;
}

export class ChronosProcessor {
  /** Counts since start, for logs, metrics and tests. */
  readonly counters = { events: 0, duplicates: 0, deadLettered: 0, invalid: 0 };
  private readonly options: ProcessorOptions;
  private readonly log: Logger;
  private readonly informer: Informer;
  private readonly rules = new Map<string, CompiledTransformer | BrokenTransformer>();
  private consumer: Consumer<string, string, string, string> | undefined;
  private readonly dlq: Producer<string, string, string, string>;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusWrite: Promise<void> = Promise.resolve();

  constructor(options: ProcessorOptions) {
    this.options = options;
    this.log = options.log.child({ component: "chronos-processor" });
    this.informer = new Informer(options.client, CHRONOS_TRANSFORMERS, {
      namespace: options.watchNamespace,
      resyncPeriodMs: 0,
      silenceTimeoutMs: 150_000,
      watchTimeoutSeconds: 300,
      backoff: { baseMs: 200, maxMs: 10_000 },
      log: this.log,
    });
    this.informer.on(({ type, object }) => {
      const key = `${object.metadata.namespace}/${object.metadata.name}`;
      if (type === "deleted") this.rules.delete(key);
      else if (this.rules.get(key)?.generation !== object.metadata.generation)
        this.rules.set(key, compileTransformer(object));
    });
    this.dlq = new Producer({
      clientId: `${options.groupId}-dlq`,
      bootstrapBrokers: options.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    this.loop = this.consumeLoop();
    this.statusTimer = setInterval(() => {
      this.statusWrite = this.statusWrite.then(() => this.writeStatuses());
    }, this.options.statusIntervalMs);
    this.log.info({ topic: this.options.topic, group: this.options.groupId }, "Started Chronos processor");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.consumer) await forceClose(this.consumer);
    await this.loop;
    await this.statusWrite;
    await this.writeStatuses();
    await this.informer.stop();
    await this.dlq.close().catch(() => undefined);
    this.log.info(this.counters, "Stopped Chronos processor");
  }

  /** Consumes until stopped; a broken connection (Kafka restarting) restarts the stream after a pause. */
  private async consumeLoop(): Promise<void> {
    let backoffMs = 500;
    while (!this.stopping) {
      this.consumer = new Consumer({
        clientId: this.options.groupId,
        groupId: this.options.groupId,
        bootstrapBrokers: this.options.brokers,
        deserializers: stringDeserializers,
        maxWaitTime: 500,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
      });
      try {
        const stream = await this.consumer.consume({
          topics: [this.options.topic],
          autocommit: false,
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        });
        for await (const message of stream) {
          await this.handle(message.value, message.key);
          await message.commit();
          backoffMs = 500;
          if (this.stopping) break;
        }
      } catch (error) {
        if (this.stopping) break;
        this.log.warn({ err: error, retryInMs: backoffMs }, "Lost the events stream; reconnecting");
        await forceClose(this.consumer);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
  }

  /** One event: rules, dead letters, then the transaction. Throws only when MariaDB or Kafka fail. */
  async handle(value: string, key: string | undefined): Promise<void> {
    let event: ChronosEvent;
    try {
      event = chronosEvent.parse(JSON.parse(value));
    } catch (error) {
      // Not an event at all (written to the topic by something else): nothing can apply to it.
      const reason =
        error instanceof z.ZodError ? `not a Chronos event: ${z.prettifyError(error)}` : "not JSON";
      this.counters.invalid++;
      await this.deadLetter(value, { reason, transformer: "", eventId: key ?? "" });
      return;
    }
    const rules = selectTransformers(
      [...this.rules.values()].filter(isCompiled),
      event,
      this.options.systemNamespace,
    );
    const outcomes: RuleOutcome[] = [];
    for (const rule of rules) {
      const result = await applyTransformer(rule, event);
      if (result.outcome === "skipped") continue;
      outcomes.push({
        namespace: rule.namespace,
        name: rule.name,
        result: result.outcome === "applied" ? { output: result.output } : { error: result.error },
      });
    }
    const failures = outcomes.filter((o) => "error" in o.result);
    // Dead letters first: if the transaction then fails, the redelivered event repeats them (at least once).
    for (const failure of failures) {
      const reason = "error" in failure.result ? failure.result.error : "";
      await this.deadLetter(value, {
        reason,
        transformer: `${failure.namespace}/${failure.name}`,
        eventId: event.id,
      });
    }
    const recorded = await recordEvent(this.options.pool, event, outcomes);
    if (recorded) this.counters.events++;
    else this.counters.duplicates++;
    this.log.debug(
      {
        event: event.id,
        namespace: event.namespace,
        rules: outcomes.length,
        failed: failures.length,
        recorded,
      },
      "Processed event",
    );
  }

  private async deadLetter(
    value: string,
    why: { reason: string; transformer: string; eventId: string },
  ): Promise<void> {
    await this.dlq.send({
      messages: [
        {
          topic: dlqTopic(this.options.topic),
          key: why.eventId,
          value,
          headers: {
            [DLQ_HEADERS.reason]: why.reason.slice(0, 4000),
            [DLQ_HEADERS.transformer]: why.transformer,
            [DLQ_HEADERS.eventId]: why.eventId,
            [DLQ_HEADERS.failedAt]: new Date().toISOString(),
          },
        },
      ],
    });
    this.counters.deadLettered++;
    this.log.info(
      { event: why.eventId, transformer: why.transformer, reason: why.reason },
      "Dead-lettered event",
    );
  }

  /** Writes every rule's status from the counts in MariaDB; unchanged statuses send nothing. */
  private async writeStatuses(): Promise<void> {
    try {
      const stats = new Map(
        (await transformerStats(this.options.pool)).map((s) => [`${s.namespace}/${s.name}`, s]),
      );
      for (const object of this.informer.list()) {
        const key = `${object.metadata.namespace}/${object.metadata.name}`;
        const rule = this.rules.get(key);
        if (!rule) continue;
        const status = computeTransformerStatus(
          {
            generation: rule.generation,
            error: isCompiled(rule) ? undefined : rule.error,
            source: isCompiled(rule) ? rule.source : undefined,
          },
          stats.get(key),
          previousConditions(object),
          new Date(),
        );
        await patchStatus(this.options.client, CHRONOS_TRANSFORMERS, object, status).catch(
          (error: unknown) => {
            // 409: the object changed meanwhile; the next round writes from the fresh copy.
            this.log.debug({ err: error, transformer: key }, "Skipped a status write");
          },
        );
      }
    } catch (error) {
      this.log.warn({ err: error }, "Could not write transformer status");
    }
  }
}

function previousConditions(object: KubeObject): Condition[] | undefined {
  const status = object.status as { conditions?: Condition[] } | undefined;
  return status?.conditions;
}
