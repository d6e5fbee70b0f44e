/** The status of a ServeEnvironment: which Serves use it. Pure. */
import type { z } from "zod";
import type { ServeEnvironment } from "../../crds/src/index.ts";
import { setCondition } from "../../operator/conditions.ts";

export type ServeEnvironmentStatus = z.output<typeof ServeEnvironment.status>;

export function computeServeEnvironmentStatus(input: {
  generation?: number | undefined;
  previous?: ServeEnvironmentStatus | undefined;
  /** namespace/name of each Serve naming the environment. */
  serves: readonly string[];
  /** Serves outside the environment's namespace (created before the webhook checked it, or while it was down). */
  misplaced: readonly string[];
  namespace: string;
  now: Date;
}): ServeEnvironmentStatus {
  const serves = [...input.serves].sort();
  const ready =
    input.misplaced.length === 0
      ? {
          type: "Ready",
          status: "True" as const,
          reason: "Ready",
          message: `${serves.length} Serve${serves.length === 1 ? "" : "s"} in namespace ${input.namespace} use this environment.`,
        }
      : {
          type: "Ready",
          status: "False" as const,
          reason: "ServesOutsideNamespace",
          message: `Serves outside namespace ${input.namespace} name this environment: ${[...input.misplaced].sort().join(", ")}; recreate them in ${input.namespace}.`,
        };
  return {
    serves,
    serveCount: serves.length,
    ...(input.generation !== undefined && { observedGeneration: input.generation }),
    conditions: setCondition(input.previous?.conditions, ready, {
      now: input.now,
      observedGeneration: input.generation,
    }),
  };
}
