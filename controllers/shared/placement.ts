/**
 * Placement on a capacity class. Nodes carry the label `darwin.dreamhorizon.org/capacity=<class>`; spot nodes
 * are also tainted `darwin.dreamhorizon.org/capacity=spot:NoSchedule`, so only pods that accept being
 * reclaimed land there.
 */
import type { V1Toleration } from "@kubernetes/client-node";
import { darwinKey } from "./labels.ts";

export type CapacityClass = "spot" | "on-demand";

/** The node label and taint that mark a node's capacity class. */
export const CAPACITY_KEY = darwinKey("capacity");

/** nodeSelector and tolerations that put a pod on nodes of a capacity class. */
export function placement(capacity: CapacityClass): {
  nodeSelector: Record<string, string>;
  tolerations?: V1Toleration[];
} {
  const nodeSelector = { [CAPACITY_KEY]: capacity };
  if (capacity !== "spot") return { nodeSelector };
  return {
    nodeSelector,
    tolerations: [{ key: CAPACITY_KEY, operator: "Equal", value: "spot", effect: "NoSchedule" }],
  };
}
