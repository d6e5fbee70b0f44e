/**
 * The build queue: which waiting builds may start now under the cluster-wide and per-namespace limits, and
 * the position of every build left waiting. Pure; the reconciler derives the entries from its cache on every
 * reconcile, so the queue survives restarts without state of its own.
 */

export interface QueueEntry {
  /** Work-queue key, namespace/name. */
  key: string;
  namespace: string;
  /** metadata.creationTimestamp: builds start in the order they were made. */
  created: string;
  /** active: its Job runs (or is being made); waiting: not started yet. */
  state: "active" | "waiting";
}

export interface QueueLimits {
  maxConcurrent: number;
  maxConcurrentPerNamespace: number;
}

export interface QueuePlan {
  /** Waiting builds that may start now. */
  start: Set<string>;
  /** Every other waiting build's position: 1 starts next. */
  positions: Map<string, number>;
}

export function planQueue(entries: readonly QueueEntry[], limits: QueueLimits): QueuePlan {
  let running = 0;
  const perNamespace = new Map<string, number>();
  for (const entry of entries) {
    if (entry.state !== "active") continue;
    running += 1;
    perNamespace.set(entry.namespace, (perNamespace.get(entry.namespace) ?? 0) + 1);
  }
  const waiting = entries
    .filter((e) => e.state === "waiting")
    .sort((a, b) => a.created.localeCompare(b.created) || a.key.localeCompare(b.key));
  const start = new Set<string>();
  const positions = new Map<string, number>();
  for (const entry of waiting) {
    const inNamespace = perNamespace.get(entry.namespace) ?? 0;
    // A namespace at its own limit waits without holding up builds of other namespaces.
    if (running < limits.maxConcurrent && inNamespace < limits.maxConcurrentPerNamespace) {
      start.add(entry.key);
      running += 1;
      perNamespace.set(entry.namespace, inNamespace + 1);
    } else {
      positions.set(entry.key, positions.size + 1);
    }
  }
  return { start, positions };
}
