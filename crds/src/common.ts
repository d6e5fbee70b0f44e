/**
 * Building blocks shared by the schemas of every Darwin kind: the pieces of vocabulary (capacity, cores,
 * memory, names) and the Kubernetes status conventions (conditions, observedGeneration).
 */
import { z } from "zod";

export const GROUP = "darwin.dreamhorizon.org";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = "darwin";

/** A CEL rule attached to a schema node (`x-kubernetes-validations`). */
export interface CelRule {
  rule: string;
  message: string;
  /** JSON path (relative to the node) that the error names, e.g. `.maxPods`. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** Attaches CEL rules to a zod schema; the CRD generator copies them into the OpenAPI schema. */
export function cel<T extends z.ZodType>(schema: T, ...rules: CelRule[]): T {
  return schema.meta({ "x-kubernetes-validations": rules });
}

/** Marks an array as a map keyed by the given fields (unique keys, merge-friendly for server-side apply). */
export function listMap<T extends z.ZodType>(schema: T, ...keys: string[]): T {
  return schema.meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys });
}

/** Marks an array as a set (unique scalar items). */
export function listSet<T extends z.ZodType>(schema: T): T {
  return schema.meta({ "x-kubernetes-list-type": "set" });
}

/** RFC 1123 label: what Kubernetes accepts as a Service, label value or container name. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A lower-case identifier usable as a Cassandra column or table name. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** An email address, loosely: something@domain. */
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export const dnsLabel = (what: string, max = 63) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(DNS_LABEL)
    .describe(`${what}: lower-case letters, digits and '-', starting and ending with a letter or digit.`);

export const owner = () =>
  z
    .string()
    .max(254)
    .regex(EMAIL)
    .describe(
      "Email address of the person or team that owns this resource; shown in listings and used for alerts.",
    );

export const tags = () =>
  listSet(
    z
      .array(z.string().min(1).max(63).describe("A free-form tag."))
      .max(32)
      .default([])
      .describe("Free-form tags for search and cost reports, e.g. [tutorial, housing-prices]."),
  );

/** Node capacity class: spot is cheaper and can be reclaimed; on-demand is not. */
export const capacity = (defaultValue: "spot" | "on-demand" = "on-demand") =>
  z
    .enum(["spot", "on-demand"])
    .default(defaultValue)
    .describe("Capacity class of the nodes to run on: spot (cheaper, may be reclaimed) or on-demand.");

export const cores = (what: string) =>
  z
    .number()
    .positive()
    .max(256)
    .describe(`CPU cores for ${what} (a number, fractions allowed, e.g. 0.5 or 4).`);

/**
 * Memory: a Kubernetes quantity ("8Gi", "512Mi") or a bare number of GiB, as the seed's cluster JSON
 * writes it (`"memory": 8` means 8 GiB).
 */
export const memory = (what: string) =>
  z
    .union([
      z.number().int().positive().max(4096),
      z
        .string()
        .max(32)
        .regex(/^([1-9][0-9]*(\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)(Ki|Mi|Gi|Ti|K|M|G|T)?$/),
    ])
    .describe(
      `Memory for ${what}: a Kubernetes quantity such as 8Gi or 512Mi, or a bare number meaning GiB (8 = 8Gi).`,
    );

export const condition = z
  .object({
    type: z.string().max(316).describe("Type of condition in CamelCase, e.g. Ready."),
    status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition: True, False or Unknown."),
    reason: z
      .string()
      .max(1024)
      .describe("Machine-readable CamelCase reason for the last transition, e.g. RayClusterReady."),
    message: z.string().max(32768).describe("Human-readable explanation of the last transition."),
    lastTransitionTime: z.string().describe("When the condition last changed status (RFC 3339)."),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The .metadata.generation the condition was computed from."),
  })
  .describe("An observation of one aspect of the resource's state.");

export type Condition = z.infer<typeof condition>;

/** Status fields every kind carries; kinds extend it with their own. */
export const statusBase = {
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "The .metadata.generation the operator last acted on; lags .metadata.generation while a change is in progress.",
    ),
  conditions: listMap(
    z
      .array(condition)
      .max(32)
      .optional()
      .describe(
        "Current conditions; Ready summarises whether the resource does its job, with a reason when not.",
      ),
    "type",
  ),
};

export const keyValue = (what: string) =>
  z
    .object({
      name: z.string().min(1).max(253).describe(`Name of the ${what}.`),
      value: z.string().max(32768).describe(`Value of the ${what}.`),
    })
    .describe(`A ${what} as a name and a value.`);

export const secretRef = (what: string) =>
  z
    .object({
      name: dnsLabel("Secret name", 253).describe(`Name of a Secret in the same namespace holding ${what}.`),
    })
    .describe(`Reference to a Secret in the same namespace holding ${what}.`);
