/** A CatalogAsset's status: registered or not, its schema version, and a Ready condition saying why. Pure. */
import type { Condition } from "../../crds/src/index.ts";
import { setCondition } from "../../operator/conditions.ts";

export interface CatalogAssetStatus {
  registered: boolean;
  schemaVersion?: number;
  observedGeneration: number;
  conditions: Condition[];
  [key: string]: unknown;
}

export function computeCatalogAssetStatus(
  asset: { generation: number; conditions: readonly Condition[] | undefined },
  result: { schemaVersion: number } | { reason: string; message: string },
  now: Date,
): CatalogAssetStatus {
  const registered = "schemaVersion" in result;
  const ready = registered
    ? {
        type: "Ready",
        status: "True" as const,
        reason: "Registered",
        message: `In the catalog index with schema version ${result.schemaVersion}.`,
      }
    : { type: "Ready", status: "False" as const, reason: result.reason, message: result.message };
  const status: CatalogAssetStatus = {
    registered,
    observedGeneration: asset.generation,
    conditions: setCondition(asset.conditions, ready, { now, observedGeneration: asset.generation }),
  };
  if (registered) status.schemaVersion = result.schemaVersion;
  return status;
}
