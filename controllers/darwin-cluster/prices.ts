/**
 * Hourly prices per capacity class, from the operator configuration's `capacityClasses` section: what
 * status.estimatedCostPerHour is computed from.
 */
import { z } from "zod";

const price = z
  .strictObject({
    cpuCoreHour: z.number().min(0).describe("Price of one CPU core for one hour."),
    memoryGiBHour: z.number().min(0).describe("Price of one GiB of memory for one hour."),
  })
  .describe("Hourly prices of one capacity class.");

export const capacityPrices = z
  .strictObject({ spot: price, "on-demand": price })
  .default({
    spot: { cpuCoreHour: 0.012, memoryGiBHour: 0.0016 },
    "on-demand": { cpuCoreHour: 0.04, memoryGiBHour: 0.005 },
  })
  .describe("Prices per capacity class, for the cost shown on clusters and serves.");

export type CapacityPrices = z.infer<typeof capacityPrices>;

/** The prices when the configuration sets none. */
export const DEFAULT_PRICES: CapacityPrices = capacityPrices.parse(undefined);
