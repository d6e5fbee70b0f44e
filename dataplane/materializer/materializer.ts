/**
 * The materializer: one Kafka consumer group over the topic of every served version of every streaming
 * FeatureGroup, writing each valid row to the online store with its event time as the write time.
 *
 * - Topics come from a FeatureGroup informer (`feedTopics`); when the set changes (a group created, a
 *   version added, a group deleted) the consumer finishes its batch, commits, and rejoins the group with
 *   the new subscription: no restart.
 * - Messages are taken in batches. Each message is checked against its group version's schema
 *   (`parseFeatureRow`); valid rows go to every sink (`RowSink`: the Cassandra online store, and the
 *   offline store when configured; a group kept offline only skips the online one), invalid ones to
 *   `<topic>.dlq` with the reason in the headers. Only then are the batch's offsets committed, so a crash
 *   between write and commit redelivers rows whose rewrite changes nothing. A sink that buffers (the
 *   offline store writes files by size or age) holds the commit back until it flushed: offsets are
 *   committed only for rows that are in every store. A failed flush loses its buffer, so it restarts the
 *   consumer from the committed offsets: the rows it held are redelivered and written again.
 * - A store that is unreachable stops the batch in place: it is retried with backoff and the stream is
 *   paused meanwhile; nothing is skipped. A lost Kafka connection restarts the consumer from the committed
 *   offsets.
 * - Several replicas share the consumer group and split the partitions between them.
 * - Every `statusIntervalMs` it measures the lag of every partition (log end minus the group's committed
 *   offset) and writes freshness and lag to each group's status (`status.ts`).
 */
import {
  Admin,
  Consumer,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializers,
} from "@platformatic/kafka";
import type { Client as CassandraClient } from "cassandra-driver";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { Informer } from "../../operator/informer.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { objectPath } from "../../operator/resource.ts";
import {
  cassandraTableColumns,
  GroupRegistry,
  RequestError,
  type ServedVersion,
} from "../feature-server/groups.ts";
import { isStoreUnavailable } from "../feature-server/reader.ts";
import { type FeatureRow, parseFeatureRow } from "../shared/feature-row.ts";
import {
  describeKafkaError,
  dlqTopic,
  forceClose,
  KafkaPublisher,
  type OutgoingMessage,
} from "../shared/kafka.ts";
import type { RowSink } from "./sink.ts";
import { MATERIALIZER_FIELD_MANAGER, materializerStatus } from "./status.ts";
import { feedTopics, sameTopics, type TopicTarget } from "./topics.ts";

/** Headers of a dead letter; its key and value are the original message's. */
export const DLQ_HEADERS = {
  reason: "darwin-dlq-reason",
  topic: "darwin-dlq-topic",
  partition: "darwin-dlq-partition",
  offset: "darwin-dlq-offset",
  failedAt: "darwin-dlq-failed-at",
} as const;

export interface MaterializerOptions {
  brokers: string[];
  groupId: string;
  client: KubeClient;
  /** Reads old versions' schemas from their tables. */
  cassandra: CassandraClient;
  /** Where valid rows go, in order; all must have written (and flushed) before offsets are committed. */
  sinks: RowSink[];
  log: Logger;
  registry: Registry;
  /** Watch one namespace's groups only; every namespace when undefined. */
  namespace?: string | undefined;
  /** Most messages written per batch. @default 2000 */
  maxBatch?: number;
  /** How often lag is measured and status written, in ms. @default 5000 */
  statusIntervalMs?: number;
  /** How far in the future an event time may be, in ms. @default one hour */
  maxFutureMs?: number;
}

type Incoming = Message<string, string, string, string>;

/** A batch that cannot be finished now (a store is down); retried as a whole. */
class RetryBatch extends Error {}

/** A buffering sink could not flush: its rows are gone from the buffer and must be redelivered. */
class FlushFailed extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Materializer {
  private readonly options: MaterializerOptions;
  private readonly log: Logger;
  private readonly informer: Informer;
  private readonly groups: GroupRegistry;
  private readonly dlq: KafkaPublisher;
  private topics = new Map<string, TopicTarget>();
  private consumer: Consumer<string, string, string, string> | undefined;
  private stopping = false;
  private topicsChanged = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusWrite: Promise<void> = Promise.resolve();
  private readonly dlqTopicsMade = new Set<string>();
  /** The last message of each partition whose rows wait for a buffering sink's flush, by topic/partition. */
  private readonly uncommitted = new Map<string, Incoming>();
  private readonly offlineStore: boolean;
  /** Newest event time written per group (namespace/name), by this replica. */
  private readonly newest = new Map<string, bigint>();
  /** Lag per topic, summed over its partitions, as last measured. */
  private readonly lagByTopic = new Map<string, number>();
  private readonly metrics: {
    rows: Counter<"namespace" | "group">;
    deadLetters: Counter<"namespace" | "group">;
    lag: Gauge<"topic" | "partition">;
    rowsPerSecond: Gauge;
  };
  /** Counts since start, for logs and tests. */
  readonly counters = { rows: 0, deadLetters: 0, batches: 0, retries: 0 };
  private readonly recent: Array<{ at: number; rows: number }> = [];

  constructor(options: MaterializerOptions) {
    this.options = options;
    this.log = options.log.child({ component: "materializer" });
    this.informer = new Informer(options.client, FEATURE_GROUPS, {
      namespace: options.namespace,
      resyncPeriodMs: 0,
      silenceTimeoutMs: 150_000,
      watchTimeoutSeconds: 300,
      backoff: { baseMs: 200, maxMs: 10_000 },
      log: this.log,
    });
    this.offlineStore = options.sinks.some((sink) => sink.store === "offline");
    this.informer.on(() => this.refreshTopics());
    this.groups = new GroupRegistry(
      {
        list: (namespace) => this.informer.list(namespace),
        get: (namespace, name) => this.informer.get(namespace, name),
      },
      cassandraTableColumns(options.cassandra),
    );
    this.dlq = new KafkaPublisher({
      brokers: options.brokers,
      clientId: `${options.groupId}-dlq`,
      sendTimeoutMs: 10_000,
    });
    const registers = [options.registry];
    const rowsPerSecond = () => this.rowsPerSecond();
    this.metrics = {
      rows: new Counter({
        name: "materializer_rows_written_total",
        help: "Rows written to the stores (online, and offline when configured)",
        labelNames: ["namespace", "group"] as const,
        registers,
      }),
      deadLetters: new Counter({
        name: "materializer_dead_letters_total",
        help: "Messages sent to a dead-letter topic",
        labelNames: ["namespace", "group"] as const,
        registers,
      }),
      lag: new Gauge({
        name: "materializer_partition_lag",
        help: "Messages of a partition not yet materialized (log end offset minus the group's committed offset)",
        labelNames: ["topic", "partition"] as const,
        registers,
      }),
      rowsPerSecond: new Gauge({
        name: "materializer_rows_per_second",
        help: "Rows written per second over the last 10 s",
        registers,
        collect() {
          this.set(rowsPerSecond());
        },
      }),
    };
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    this.topics = feedTopics(this.informer.list(), { offlineStore: this.offlineStore });
    this.loop = this.consumeLoop();
    const interval = this.options.statusIntervalMs ?? 5000;
    this.statusTimer = setInterval(() => {
      this.statusWrite = this.statusWrite.then(() => this.report());
    }, interval);
    this.log.info({ group: this.options.groupId, topics: [...this.topics.keys()] }, "Started materializer");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.loop;
    await this.statusWrite;
    await this.informer.stop();
    await this.dlq.close().catch(() => undefined);
    this.log.info(this.counters, "Stopped materializer");
  }

  /** The topics consumed now. */
  consumedTopics(): string[] {
    return [...this.topics.keys()];
  }

  private refreshTopics(): void {
    const next = feedTopics(this.informer.list(), { offlineStore: this.offlineStore });
    if (sameTopics(next, this.topics)) {
      this.topics = next;
      return;
    }
    this.log.info({ topics: [...next.keys()] }, "Changed the feature topics to consume");
    this.topics = next;
    this.topicsChanged = true;
    this.wake?.();
  }

  private rowsPerSecond(): number {
    const since = Date.now() - 10_000;
    while (this.recent.length > 0 && (this.recent[0]?.at ?? 0) < since) this.recent.shift();
    return this.recent.reduce((sum, r) => sum + r.rows, 0) / 10;
  }

  /** Consumes until stopped; rejoins when the topics change, reconnects after a lost connection. */
  private async consumeLoop(): Promise<void> {
    let backoffMs = 500;
    while (!this.stopping) {
      this.topicsChanged = false;
      // Offsets held back for a flush belong to the consumer that is gone; its rows come again.
      this.uncommitted.clear();
      const topics = [...this.topics.keys()];
      if (topics.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const consumer = new Consumer<string, string, string, string>({
        clientId: this.options.groupId,
        groupId: this.options.groupId,
        bootstrapBrokers: this.options.brokers,
        deserializers: stringDeserializers,
        maxWaitTime: 200,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
      });
      this.consumer = consumer;
      try {
        const stream = await consumer.consume({
          topics,
          autocommit: false,
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        });
        await this.pump(stream);
        backoffMs = 500;
        await stream.close().catch(() => undefined);
        await consumer.close().catch(() => forceClose(consumer));
      } catch (error) {
        await forceClose(consumer);
        if (this.stopping) break;
        if (error instanceof FlushFailed)
          this.log.warn(
            { reason: error.message, retryInMs: backoffMs },
            "Could not flush a buffering store; rejoining from the committed offsets",
          );
        else
          this.log.warn(
            { err: describeKafkaError(error), retryInMs: backoffMs },
            "Lost the feature topics' stream; reconnecting",
          );
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
  }

  /**
   * Takes messages from the stream in batches until stopped or the topics change; throws when the stream
   * fails. The stream is paused while a backlog of batches waits, so memory stays bounded.
   */
  private async pump(stream: MessagesStream<string, string, string, string>): Promise<void> {
    const maxBatch = this.options.maxBatch ?? 2000;
    const pending: Incoming[] = [];
    let failure: unknown;
    stream.on("data", (message: Incoming) => {
      pending.push(message);
      if (pending.length >= maxBatch * 2 && !stream.isPaused()) stream.pause();
      if (pending.length >= maxBatch) this.wake?.();
    });
    stream.on("error", (error: unknown) => {
      failure = error;
      this.wake?.();
    });
    while (!this.stopping && !this.topicsChanged) {
      if (failure) throw failure;
      if (pending.length === 0) {
        // Wait for a full batch, a failure, a change, or a short while (then take what there is).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        // A buffering sink's age bound passes while no message comes.
        await this.commit(false);
        continue;
      }
      const batch = pending.splice(0, maxBatch);
      if (stream.isPaused() && pending.length < maxBatch) stream.resume();
      await this.process(batch);
    }
    // Stopping or rejoining: what the sinks hold is written and committed while this consumer owns it.
    try {
      await this.commit(true);
    } catch (error) {
      this.log.warn({ reason: (error as Error).message }, "Left rows uncommitted; they are redelivered");
    }
  }

  /** One batch: validate, write (retrying while a store is down), dead-letter, then commit. */
  private async process(batch: Incoming[]): Promise<void> {
    let delayMs = 250;
    for (;;) {
      try {
        await this.processOnce(batch);
        break;
      } catch (error) {
        if (!(error instanceof RetryBatch) || this.stopping) throw error;
        this.counters.retries++;
        this.log.warn({ reason: error.message, retryInMs: delayMs }, "Could not write a batch; retrying");
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
    this.counters.batches++;
    // The last message of each partition commits everything before it in that partition.
    for (const message of batch) this.uncommitted.set(`${message.topic}/${message.partition}`, message);
    await this.commit(false);
  }

  /**
   * Commits the offsets held back: at once when no sink buffers; otherwise when a buffering sink is due
   * (or `force`), after every buffering sink flushed. Throws FlushFailed when a flush failed.
   */
  private async commit(force: boolean): Promise<void> {
    if (this.uncommitted.size === 0) return;
    const buffering = this.options.sinks.filter((sink) => sink.flush);
    if (buffering.length > 0) {
      if (!force && !buffering.some((sink) => sink.flushDue?.())) return;
      for (const sink of buffering) {
        try {
          await sink.flush?.();
        } catch (error) {
          this.uncommitted.clear();
          throw new FlushFailed(`${sink.name}: ${(error as Error).message}`);
        }
      }
    }
    const last = [...this.uncommitted.values()];
    this.uncommitted.clear();
    await Promise.all(
      last.map(async (message) => {
        try {
          await message.commit();
        } catch (error) {
          // Not committed: the rows are redelivered (to this or another replica) and rewritten unchanged.
          this.log.warn(
            { err: describeKafkaError(error), topic: message.topic, partition: message.partition },
            "Could not commit an offset",
          );
        }
      }),
    );
  }

  private async processOnce(batch: Incoming[]): Promise<void> {
    const rowsByTopic = new Map<string, { group: ServedVersion; rows: FeatureRow[] }>();
    const dead: OutgoingMessage[] = [];
    const deadGroups: string[] = [];
    const deadLetter = (message: Incoming, reason: string, group: string) => {
      dead.push({
        topic: dlqTopic(message.topic),
        key: message.key ?? "",
        value: message.value ?? "",
        headers: {
          [DLQ_HEADERS.reason]: reason.slice(0, 4000),
          [DLQ_HEADERS.topic]: message.topic,
          [DLQ_HEADERS.partition]: String(message.partition),
          [DLQ_HEADERS.offset]: String(message.offset),
          [DLQ_HEADERS.failedAt]: new Date().toISOString(),
        },
      });
      deadGroups.push(group);
    };
    const resolved = new Map<string, ServedVersion | string>();
    for (const message of batch) {
      const target = this.topics.get(message.topic);
      const groupKey = target ? `${target.namespace}/${target.name}` : message.topic;
      let group = resolved.get(message.topic);
      if (group === undefined) {
        group = await this.resolve(message.topic, target);
        resolved.set(message.topic, group);
      }
      if (typeof group === "string") {
        deadLetter(message, group, groupKey);
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(message.value ?? "");
      } catch {
        deadLetter(
          message,
          "not JSON: a message must be a JSON object of entity keys, features and event_time",
          groupKey,
        );
        continue;
      }
      const parsed = parseFeatureRow(group, json, {
        at: "message",
        ...(this.options.maxFutureMs !== undefined ? { maxFutureMs: this.options.maxFutureMs } : {}),
      });
      if (!parsed.ok) {
        deadLetter(
          message,
          `${parsed.problem} (feature group ${groupKey} version ${group.version})`,
          groupKey,
        );
        continue;
      }
      let entry = rowsByTopic.get(message.topic);
      if (!entry) {
        entry = { group, rows: [] };
        rowsByTopic.set(message.topic, entry);
      }
      entry.rows.push(parsed.row);
    }
    for (const { group, rows } of rowsByTopic.values()) {
      for (const sink of this.options.sinks) {
        if (!group.online && sink.store === "online") continue;
        try {
          await sink.write(group, rows);
        } catch (error) {
          if (isStoreUnavailable(error)) throw new RetryBatch(`${sink.name}: ${(error as Error).message}`);
          throw new RetryBatch(
            `${sink.name} refused the rows of ${group.keyspace}.${group.table}: ${(error as Error).message}`,
          );
        }
      }
    }
    if (dead.length > 0) {
      try {
        await this.ensureDlqTopics(dead.map((d) => d.topic));
        await this.dlq.publish(dead);
      } catch (error) {
        throw new RetryBatch(`dead-letter topic: ${describeKafkaError(error)}`);
      }
      for (const [i, d] of dead.entries()) {
        const [namespace = "", group = ""] = (deadGroups[i] ?? "").split("/");
        this.metrics.deadLetters.inc({ namespace, group });
        this.log.info({ topic: d.topic, reason: d.headers?.[DLQ_HEADERS.reason] }, "Dead-lettered a message");
      }
      this.counters.deadLetters += dead.length;
    }
    let written = 0;
    for (const { group, rows } of rowsByTopic.values()) {
      const key = `${group.namespace}/${group.name}`;
      let newest = this.newest.get(key) ?? 0n;
      for (const row of rows) if (row.eventTimeMicros > newest) newest = row.eventTimeMicros;
      this.newest.set(key, newest);
      this.metrics.rows.inc({ namespace: group.namespace, group: group.name }, rows.length);
      written += rows.length;
    }
    this.counters.rows += written;
    this.recent.push({ at: Date.now(), rows: written });
  }

  /** The schema of a topic's group version, or why its messages cannot be written (a dead-letter reason). */
  private async resolve(topic: string, target: TopicTarget | undefined): Promise<ServedVersion | string> {
    if (!target) return `topic ${topic} feeds no served version of a streaming feature group`;
    try {
      const group = await this.groups.resolve(target.namespace, target.name, target.version, "any");
      if (!group.online && !this.offlineStore)
        return `feature group ${target.namespace}/${target.name} is kept offline only (spec.online.enabled false) and this materializer has no offline store`;
      return group;
    } catch (error) {
      if (error instanceof RequestError && error.statusCode === 503) throw new RetryBatch(error.message);
      if (error instanceof RequestError) return error.message;
      throw error;
    }
  }

  private async ensureDlqTopics(topics: string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.dlqTopicsMade.has(t));
    if (missing.length === 0) return;
    // Dead-letter topics are created on first use, with one partition: they are read rarely, by people.
    const admin = new Admin({
      clientId: `${this.options.groupId}-admin`,
      bootstrapBrokers: this.options.brokers,
    });
    try {
      const existing = new Set(await admin.listTopics());
      const create = missing.filter((t) => !existing.has(t));
      if (create.length > 0)
        await admin.createTopics({ topics: create, partitions: 1, replicas: 1 }).catch((error: Error) => {
          if (!/already exists/i.test(`${error.message} ${JSON.stringify(error)}`)) throw error;
        });
      for (const t of missing) this.dlqTopicsMade.add(t);
    } finally {
      await admin.close();
    }
  }

  /** Measures lag per partition and writes each group's freshness and lag. Never throws. */
  private async report(): Promise<void> {
    const consumer = this.consumer;
    const topics = [...this.topics.keys()];
    if (consumer && topics.length > 0) {
      try {
        const ends = await consumer.listOffsets({ topics });
        const committed = await consumer.listCommittedOffsets({
          topics: [...ends].map(([topic, offsets]) => ({ topic, partitions: offsets.map((_, p) => p) })),
        });
        for (const [topic, offsets] of ends) {
          let sum = 0;
          offsets.forEach((end, partition) => {
            const done = committed.get(topic)?.[partition] ?? -1n;
            const lag = Number(end - (done < 0n ? 0n : done));
            this.metrics.lag.set({ topic, partition: String(partition) }, Math.max(0, lag));
            sum += Math.max(0, lag);
          });
          this.lagByTopic.set(topic, sum);
        }
      } catch (error) {
        this.log.debug({ err: describeKafkaError(error) }, "Could not measure lag");
      }
    }
    for (const object of this.informer.list()) {
      const namespace = object.metadata.namespace ?? "";
      const key = `${namespace}/${object.metadata.name}`;
      const mine = [...this.topics]
        .filter(([, t]) => `${t.namespace}/${t.name}` === key)
        .map(([topic]) => topic);
      if (mine.length === 0) continue;
      const lags = mine.map((t) => this.lagByTopic.get(t));
      const lag = lags.every((l) => l !== undefined)
        ? lags.reduce<number>((a, b) => a + (b ?? 0), 0)
        : undefined;
      const status = materializerStatus(object, this.newest.get(key), lag);
      if (!status) continue;
      try {
        await this.options.client.requestObject({
          method: "PATCH",
          path: objectPath(FEATURE_GROUPS, object, "status"),
          query: { fieldManager: MATERIALIZER_FIELD_MANAGER, force: true },
          contentType: "application/apply-patch+yaml",
          body: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            metadata: { name: object.metadata.name, namespace },
            status,
          },
        });
      } catch (error) {
        this.log.debug({ err: String(error), group: key }, "Skipped a status write");
      }
    }
  }
}
