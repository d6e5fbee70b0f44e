/** ChronosTransformer: a JSONata rule turning platform events into entities and relationships. */
import { z } from "zod";
import { matching, statusBase } from "./common.ts";
import { defineKind } from "./kind.ts";

export const ChronosTransformerSpec = z
  .object({
    source: matching(
      z.string().min(1).max(128),
      /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/,
      "must be lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit, e.g. darwin-compute",
    ).describe("Event source this rule applies to, e.g. darwin-compute (the event's source field)."),
    match: z
      .string()
      .min(1)
      .max(4096)
      .default("true")
      .describe(
        'JSONata predicate over the event; the transform runs only when it is true, e.g. type = "cluster_created".',
      ),
    transform: z
      .string()
      .min(1)
      .max(65536)
      .describe('JSONata expression producing {"entities": [...], "relationships": [...]} from the event.'),
    priority: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(100)
      .describe("Rules of one source run in ascending priority; ties by name."),
    suspend: z.boolean().default(false).describe("true stops applying this rule without deleting it."),
  })
  .describe(
    "A transformation rule: which events it matches and what entities and relationships it produces.",
  );

export const ChronosTransformerStatus = z
  .object({
    processed: z.number().int().min(0).optional().describe("Events this rule transformed."),
    failed: z.number().int().min(0).optional().describe("Events on which the rule failed."),
    lastError: z.string().optional().describe("The last evaluation error, with the event id."),
    ...statusBase,
  })
  .describe("Observed state of the rule.");

export const ChronosTransformer = defineKind({
  kind: "ChronosTransformer",
  plural: "chronostransformers",
  singular: "chronostransformer",
  shortNames: ["ct"],
  scope: "Namespaced",
  description:
    "ChronosTransformer is a rule of the Chronos event processor: a JSONata predicate and transform that turn events of one source into entities and relationships for lineage.",
  spec: ChronosTransformerSpec,
  status: ChronosTransformerStatus,
  maxNameLength: 253,
  printerColumns: [
    { name: "Source", type: "string", jsonPath: ".spec.source", description: "Event source." },
    { name: "Processed", type: "integer", jsonPath: ".status.processed", description: "Events transformed." },
    { name: "Failed", type: "integer", jsonPath: ".status.failed", description: "Failures." },
  ],
});
