/**
 * Conditions, the Kubernetes way: one entry per type; lastTransitionTime moves only when the status
 * changes, so `kubectl get` ages stay meaningful and a status recomputed without change stays equal.
 */
export type ConditionStatus = "True" | "False" | "Unknown";

/** metav1.Condition: the shape every kind's status.conditions has (the CRDs' schemas say the same). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number | undefined;
}

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable, e.g. ChildrenApplied, CleanupFailed. */
  reason: string;
  /** What happened, for a person; say what to do when it is not fine. */
  message: string;
}

/** Metav1.Time's wire format: RFC 3339 in UTC, whole seconds. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Returns `conditions` with `update` set: a condition of the same type is replaced in place (keeping its
 * lastTransitionTime when the status did not change), a new type is appended. Pure; the input is untouched.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  options: { now: Date; observedGeneration?: number | undefined },
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    lastTransitionTime:
      existing && existing.status === update.status ? existing.lastTransitionTime : kubeTime(options.now),
  };
  if (options.observedGeneration !== undefined) next.observedGeneration = options.observedGeneration;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
