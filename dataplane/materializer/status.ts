/**
 * What the materializer reports on a FeatureGroup: `status.lastWriteTime` (freshness: the newest event time
 * written to the online store) and `status.materialization.lag` (messages on the group's served versions'
 * topics not yet materialized). The materializer writes these two fields, and only these, by server-side
 * apply on the status subresource with its own field manager (`darwin-materializer`); the FeatureGroup
 * controller writes the rest of the status and carries these two over unchanged, so neither writer undoes
 * the other's fields. Pure.
 */
import type { KubeObject } from "../../operator/resource.ts";
import { formatEventTime, parseEventTime } from "../shared/feature-row.ts";

export const MATERIALIZER_FIELD_MANAGER = "darwin-materializer";

export interface MaterializerStatus {
  lastWriteTime?: string;
  materialization: { lag: number };
}

interface LiveFields {
  lastWriteTime?: unknown;
  materialization?: { lag?: unknown };
}

/**
 * The fields to apply to `object`, or undefined when the live ones already say the same. Freshness only
 * moves forward: replicas each know the event times of their own partitions, and the newest wins.
 */
export function materializerStatus(
  object: KubeObject,
  newestEventMicros: bigint | undefined,
  lag: number | undefined,
): MaterializerStatus | undefined {
  const live = (object.status ?? {}) as LiveFields;
  const liveTime = typeof live.lastWriteTime === "string" ? live.lastWriteTime : undefined;
  const mine = newestEventMicros === undefined ? undefined : formatEventTime(newestEventMicros);
  const liveMicros = liveTime === undefined ? undefined : parseEventTime(liveTime);
  const newer =
    newestEventMicros !== undefined && (liveMicros === undefined || newestEventMicros > liveMicros);
  const lastWriteTime = newer ? mine : liveTime;
  const liveLag = typeof live.materialization?.lag === "number" ? live.materialization.lag : undefined;
  const newLag = lag ?? liveLag ?? 0;
  if (lastWriteTime === liveTime && newLag === liveLag) return undefined;
  return { ...(lastWriteTime ? { lastWriteTime } : {}), materialization: { lag: newLag } };
}
