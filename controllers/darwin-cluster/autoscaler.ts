/**
 * The operator configuration's `rayAutoscaler` section: what the Ray autoscaler beside every cluster's head
 * requests and is limited to. KubeRay's default, 500m and 512Mi requested and limited, reserves half a core
 * per cluster for a process that is idle between scaling decisions; a platform with many small clusters
 * requests less and keeps the limit, so the autoscaler still bursts when it acts.
 */
import { z } from "zod";

import { cpuQuantity, memoryQuantity } from "../shared/quantity.ts";

const amounts = z.strictObject({ cpu: cpuQuantity(), memory: memoryQuantity() });

export const autoscalerConfig = z
  .strictObject({
    requests: amounts.describe("What the scheduler reserves for the autoscaler container."),
    limits: amounts.describe("What the autoscaler container may use at most."),
  })
  .optional()
  .describe(
    "Resources of the Ray autoscaler container beside each cluster's head; unset leaves KubeRay's defaults (500m and 512Mi, requested and limited).",
  );

export type AutoscalerConfig = NonNullable<z.infer<typeof autoscalerConfig>>;
