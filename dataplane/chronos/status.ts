/**
 * A ChronosTransformer's status as the processor reports it: whether the rule compiled, how many events it
 * transformed and failed on, and the last error. Pure; the processor writes it in batches.
 */
import type { Condition } from "../../crds/src/index.ts";
import { setCondition } from "../../operator/conditions.ts";
import type { TransformerStats } from "./store.ts";

export interface TransformerStatus {
  processed: number;
  failed: number;
  lastError?: string;
  observedGeneration: number;
  conditions: Condition[];
  [key: string]: unknown;
}

export function computeTransformerStatus(
  rule: { generation: number; error?: string | undefined; source?: string | undefined },
  stats: TransformerStats | undefined,
  previous: readonly Condition[] | undefined,
  now: Date,
): TransformerStatus {
  const ready = rule.error
    ? {
        type: "Ready",
        status: "False" as const,
        reason: "InvalidRule",
        message: `${rule.error}; fix spec.match or spec.transform`,
      }
    : {
        type: "Ready",
        status: "True" as const,
        reason: "Loaded",
        message: `Applied by the Chronos processor to events of source ${rule.source}.`,
      };
  const status: TransformerStatus = {
    processed: stats?.processed ?? 0,
    failed: stats?.failed ?? 0,
    observedGeneration: rule.generation,
    conditions: setCondition(previous, ready, { now, observedGeneration: rule.generation }),
  };
  if (stats?.lastError) status.lastError = stats.lastError;
  return status;
}
