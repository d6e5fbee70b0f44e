/**
 * The FeatureGroup controller. Its children live outside Kubernetes: the namespace's Cassandra keyspace,
 * a table per group and version, a Kafka topic per group and version when streaming is on, and the
 * schema history in MySQL. The finalizer drops tables and topics when deletionPolicy is Delete.
 */
import { FeatureGroup } from "../../crds/src/index.ts";
import type { ControllerDefinition, ReconcileContext } from "../../operator/controller.ts";
import { TerminalError } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import { darwinResource } from "../shared/resource-types.ts";
import {
  keyspaceName,
  sdkGroupName,
  tableName,
  tableVersionPattern,
  topicName,
  topicPrefix,
} from "./names.ts";
import {
  createKeyspaceCql,
  createTableCql,
  EVENT_TIME_COLUMN,
  type Replication,
  schemaHash,
  type TableSchema,
  tableChanges,
} from "./render/cql.ts";
import { computeFeatureGroupStatus, type FeatureGroupStatus, type StepOutcome } from "./status.ts";
import type { FeatureStoreConfig, FeatureStores } from "./stores.ts";

export const FEATURE_GROUPS = darwinResource(FeatureGroup);

export type FeatureGroupSpec = ReturnType<typeof FeatureGroup.spec.parse>;

export interface FeatureGroupControllerOptions {
  /** Where the stores are (the operator configuration's featureStore section). */
  stores: FeatureStoreConfig;
  /**
   * How often a Ready group's stores are checked again without a change, so a store that went away (or a
   * table dropped by hand) shows in its conditions.
   * @default 60000
   */
  recheckAfterMs?: number;
}

/** The controller and the store clients it holds (closed by `close`). */
export function createFeatureGroupController(
  options: FeatureGroupControllerOptions,
): ControllerDefinition & { close(): Promise<void> } {
  // The store clients (Kafka, Cassandra, MySQL: about 100 MiB of RSS together) are loaded with the first
  // FeatureGroup, so an operator without any does not pay for them.
  let stores: Promise<FeatureStores> | undefined;
  const open = (): Promise<FeatureStores> => {
    stores ??= import("./stores.ts")
      .then((module) => new module.FeatureStores(options.stores))
      .catch((error: unknown) => {
        stores = undefined;
        throw error;
      });
    return stores;
  };
  const replication = options.stores.cassandra.replication;
  return {
    name: "featuregroup",
    for: FEATURE_GROUPS,
    reconcile: async (ctx) => {
      await reconcileFeatureGroup(ctx, await open(), replication);
      return { requeueAfterMs: options.recheckAfterMs ?? 60_000 };
    },
    finalize: async (ctx) => finalizeFeatureGroup(ctx, await open()),
    close: async () => {
      await (await stores?.catch(() => undefined))?.close();
    },
  };
}

/** Why a store step failed, for the condition: the store's own words, short. */
function storeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 400 ? `${message.slice(0, 400)}...` : message;
}

function parseSpec(ctx: ReconcileContext): FeatureGroupSpec {
  const parsed = FeatureGroup.spec.safeParse(ctx.object.spec);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `spec.${i.path.join(".")}: ${i.message}`).join("; ");
    throw new TerminalError("InvalidSpec", issues);
  }
  const reserved = [...parsed.data.entities, ...parsed.data.features].find(
    (c) => c.name === EVENT_TIME_COLUMN,
  );
  if (reserved) {
    throw new TerminalError(
      "InvalidSpec",
      `spec: the column name ${EVENT_TIME_COLUMN} is reserved for the event time of each row; rename that entity or feature.`,
    );
  }
  return parsed.data;
}

async function reconcileFeatureGroup(ctx: ReconcileContext, stores: FeatureStores, replication: Replication) {
  const { name } = ctx.object.metadata;
  const namespace = ctx.object.metadata.namespace ?? "default";
  const spec = parseSpec(ctx);
  const keyspace = keyspaceName(namespace);
  const table = tableName(name, spec.version);
  const schema: TableSchema = { entities: spec.entities, features: spec.features };
  const hash = schemaHash(schema);
  const topic = spec.stream.enabled ? topicName(namespace, name, spec.version) : undefined;

  let servedVersions: number[] | undefined;
  let store: StepOutcome;
  try {
    servedVersions = await ensureTables(ctx, stores, replication, spec, { keyspace, table, hash, schema });
    store = {
      ok: true,
      reason: spec.online.enabled ? "TableReady" : "OnlineDisabled",
      message: spec.online.enabled
        ? `Table ${keyspace}.${table} has the schema of version ${spec.version} (hash ${hash}).`
        : "spec.online.enabled is false: no online table is kept.",
    };
  } catch (err) {
    if (err instanceof TerminalError) {
      await writeStatus(ctx, spec, { keyspace, table, hash, topic }, undefined, {
        store: { ok: false, reason: err.reason, message: err.message },
        topicStep: { ok: false, reason: "StoreNotReady", message: "Waiting for the online table." },
      });
      throw err;
    }
    store = { ok: false, ...storeFailure(err) };
  }

  let topicStep: StepOutcome = {
    ok: true,
    reason: "StreamingDisabled",
    message: "spec.stream.enabled is false: no topic.",
  };
  if (topic) {
    try {
      const partitions = await stores.ensureTopic(topic, spec.stream.partitions);
      topicStep = {
        ok: true,
        reason: "TopicReady",
        message: `Topic ${topic} has ${partitions} partitions.`,
      };
      if (partitions > spec.stream.partitions) {
        topicStep.message += ` Kafka cannot remove partitions: spec.stream.partitions ${spec.stream.partitions} is below it.`;
      }
    } catch (err) {
      topicStep = {
        ok: false,
        reason: "KafkaUnavailable",
        message: `Topic ${topic} could not be created or read, retrying with backoff: ${storeError(err)}`,
      };
    }
  }

  await writeStatus(ctx, spec, { keyspace, table, hash, topic }, servedVersions, { store, topicStep });
  const failed = [store, topicStep].find((s) => !s.ok);
  // Thrown after the status says why: the work queue retries with exponential backoff.
  if (failed) throw new Error(`${failed.reason}: ${failed.message}`);
}

/** Which store failed, from the error: the schema history (MySQL) or Cassandra. */
function storeFailure(err: unknown): { reason: string; message: string } {
  if (err instanceof SchemaHistoryError) {
    return {
      reason: "SchemaHistoryUnavailable",
      message: `The schema history (MySQL) could not be written, retrying with backoff: ${storeError(err.cause)}`,
    };
  }
  return {
    reason: "CassandraUnavailable",
    message: `Cassandra could not be reached or refused the schema, retrying with backoff: ${storeError(err)}`,
  };
}

class SchemaHistoryError extends Error {
  constructor(cause: unknown) {
    super("schema history failed", { cause });
  }
}

interface Names {
  keyspace: string;
  table: string;
  hash: string;
  schema: TableSchema;
}

/**
 * Keyspace, the current version's table (created, or features added in place), the schema history row;
 * returns the versions served.
 */
async function ensureTables(
  ctx: ReconcileContext,
  stores: FeatureStores,
  replication: Replication,
  spec: FeatureGroupSpec,
  { keyspace, table, hash, schema }: Names,
): Promise<number[]> {
  const { name } = ctx.object.metadata;
  const namespace = ctx.object.metadata.namespace ?? "default";
  if (!spec.online.enabled) return [];
  await stores.cql(createKeyspaceCql(keyspace, replication));
  const live = await stores.liveColumns(keyspace, table);
  if (!live) {
    await stores.cql(createTableCql(keyspace, table, schema));
    ctx.log.info({ keyspace, table, version: spec.version }, "Created feature table");
    ctx.event({
      type: "Normal",
      reason: "TableCreated",
      action: "CreateTable",
      note: `Created table ${keyspace}.${table} for version ${spec.version}.`,
    });
  } else {
    const changes = tableChanges(keyspace, table, schema, live);
    if (changes.conflicts.length > 0) {
      throw new TerminalError(
        "SchemaConflict",
        `Table ${keyspace}.${table} exists with another schema (${changes.conflicts.join("; ")}): increase spec.version for a new table, or drop the old one.`,
      );
    }
    for (const statement of changes.statements) await stores.cql(statement);
    if (changes.statements.length > 0) {
      const added = schema.features.filter((f) => !live.some((c) => c.name === f.name)).map((f) => f.name);
      ctx.log.info({ keyspace, table, added }, "Added feature columns");
      ctx.event({
        type: "Normal",
        reason: "FeaturesAdded",
        action: "AlterTable",
        note: `Added ${added.join(", ")} to ${keyspace}.${table}.`,
      });
    }
  }
  let recorded: number[];
  try {
    await stores.recordSchema({ namespace, name, version: spec.version, schemaHash: hash, schema });
    recorded = await stores.recordedVersions(namespace, name);
  } catch (err) {
    throw new SchemaHistoryError(err);
  }
  const existing = new Set(await stores.tables(keyspace));
  return servedVersionsOf(spec, recorded).filter((v) => existing.has(tableName(name, v)));
}

/** The current version, and the older ones the spec keeps served (all recorded ones by default). */
export function servedVersionsOf(
  spec: Pick<FeatureGroupSpec, "version" | "servedVersions">,
  recorded: number[],
) {
  const older = recorded.filter((v) => v < spec.version);
  const kept = spec.servedVersions ? older.filter((v) => spec.servedVersions?.includes(v)) : older;
  return [...new Set([...kept, spec.version])].sort((a, b) => a - b);
}

async function writeStatus(
  ctx: ReconcileContext,
  spec: FeatureGroupSpec,
  names: { keyspace: string; table: string; hash: string; topic: string | undefined },
  servedVersions: number[] | undefined,
  steps: { store: StepOutcome; topicStep: StepOutcome },
): Promise<void> {
  const previous = FeatureGroup.status.safeParse(ctx.object.status ?? {});
  const status = computeFeatureGroupStatus(
    previous.success ? (previous.data as FeatureGroupStatus) : undefined,
    {
      generation: ctx.object.metadata.generation,
      keyspace: names.keyspace,
      table: spec.online.enabled ? `${names.keyspace}.${names.table}` : undefined,
      topic: names.topic,
      schemaHash: names.hash,
      version: spec.version,
      servedVersions,
      ...steps,
    },
    ctx.now(),
  );
  await ctx.updateStatus(status as JsonObject);
}

/** deletionPolicy Delete: every version's table and topic go; Retain keeps them (and the keyspace stays). */
async function finalizeFeatureGroup(ctx: ReconcileContext, stores: FeatureStores): Promise<void> {
  const { name } = ctx.object.metadata;
  const namespace = ctx.object.metadata.namespace ?? "default";
  const policy = (ctx.object.spec as { deletionPolicy?: string } | undefined)?.deletionPolicy ?? "Retain";
  if (policy !== "Delete") {
    ctx.log.info({ deletionPolicy: policy }, "Kept feature tables and topics");
    return;
  }
  const keyspace = keyspaceName(namespace);
  const pattern = tableVersionPattern(name);
  const tables = (await stores.tables(keyspace)).filter((t) => pattern.test(t));
  for (const table of tables) await stores.cql(`DROP TABLE IF EXISTS "${keyspace}"."${table}"`);
  const topics = await stores.topicsWithPrefix(topicPrefix(namespace, name));
  await stores.deleteTopics(
    topics.filter((t) => /^[0-9]+$/.test(t.slice(topicPrefix(namespace, name).length))),
  );
  ctx.log.info({ keyspace, tables, topics, group: sdkGroupName(name) }, "Dropped feature tables and topics");
}
