/**
 * The status of a FeatureGroup from what the reconcile found in the stores. Pure: the same outcome gives
 * the same status, so an unchanged group costs no status write.
 */
import type { z } from "zod";
import type { Condition, FeatureGroup } from "../../crds/src/index.ts";
import { setCondition } from "../../operator/conditions.ts";

export type FeatureGroupStatus = z.output<typeof FeatureGroup.status>;

/** How one store step went. */
export interface StepOutcome {
  ok: boolean;
  /** CamelCase: TableReady, CassandraUnavailable, SchemaConflict, TopicReady, KafkaUnavailable... */
  reason: string;
  message: string;
}

export interface FeatureGroupOutcome {
  generation: number | undefined;
  keyspace: string;
  /** keyspace.table of the current version; undefined when the group is not kept online. */
  table: string | undefined;
  /** The current version's topic, when streaming is on. */
  topic?: string | undefined;
  schemaHash: string;
  version: number;
  /** Versions served, ascending; undefined when the store step did not get far enough to know. */
  servedVersions?: number[] | undefined;
  store: StepOutcome;
  topicStep: StepOutcome;
}

export function computeFeatureGroupStatus(
  previous: FeatureGroupStatus | undefined,
  outcome: FeatureGroupOutcome,
  now: Date,
): FeatureGroupStatus {
  const options = { now, observedGeneration: outcome.generation };
  let conditions: Condition[] | undefined = previous?.conditions;
  const set = (type: string, step: StepOutcome) => {
    conditions = setCondition(
      conditions,
      { type, status: step.ok ? "True" : "False", reason: step.reason, message: step.message },
      options,
    );
  };
  set("StoreReady", outcome.store);
  set("TopicReady", outcome.topicStep);
  const failed = [outcome.store, outcome.topicStep].find((step) => !step.ok);
  set(
    "Ready",
    failed ?? {
      ok: true,
      reason: "Serving",
      message: outcome.table
        ? `Version ${outcome.version} is served from ${outcome.table}${outcome.topic ? ` and fed by topic ${outcome.topic}` : ""}.`
        : `Version ${outcome.version} is not kept online${outcome.topic ? `; topic ${outcome.topic} is ready` : ""}.`,
    },
  );
  const servedVersions = outcome.servedVersions ?? previous?.servedVersions;
  const status: FeatureGroupStatus = {
    keyspace: outcome.keyspace,
    ...(outcome.table ? { table: outcome.table } : {}),
    schemaHash: outcome.schemaHash,
    servedVersion: outcome.version,
    ...(servedVersions ? { servedVersions } : {}),
    ...(outcome.topic ? { topic: outcome.topic } : {}),
    // The materializer's fields (its own field manager): carried over, never written here.
    ...(previous?.lastWriteTime ? { lastWriteTime: previous.lastWriteTime } : {}),
    ...(previous?.materialization ? { materialization: previous.materialization } : {}),
    ...(outcome.generation !== undefined ? { observedGeneration: outcome.generation } : {}),
    conditions,
  };
  return status;
}
