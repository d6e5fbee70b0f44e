/**
 * Building blocks shared by the schemas of every Darwin kind: the pieces of vocabulary (capacity, cores,
 * memory, names) and the Kubernetes status conventions (conditions, observedGeneration).
 */
import { z } from "zod";
import { NUMBER_OR_STRING } from "./openapi.ts";

export const GROUP = "darwin.dreamhorizon.org";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
/** Category of the namespaced kinds: `kubectl get darwin -A`, `kubectl delete darwin --all -n team-a`. */
export const CATEGORY = "darwin";
/**
 * Category of the cluster-scoped kinds (runtimes, serve environments). Kept out of `darwin` because kubectl
 * applies a category to every kind in it: `kubectl delete darwin --all -n team-a` would otherwise delete
 * every tenant's runtimes. `kubectl get darwin,darwin-admin -A` lists everything.
 */
export const ADMIN_CATEGORY = "darwin-admin";

/** A CEL rule attached to a schema node (`x-kubernetes-validations`). */
export interface CelRule {
  rule: string;
  message: string;
  /** JSON path (relative to the node) that the error names, e.g. `.maxPods`. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** A CEL rule whose message is computed (`messageExpression`), e.g. to name the list element at fault. */
export interface CelMessageRule extends Omit<CelRule, "message"> {
  /** Static message, shown when the expression fails or gives an empty string. */
  message: string;
  /** CEL expression giving the message; it may read `self` (and `oldSelf` in transition rules). */
  messageExpression: string;
}

/**
 * Attaches CEL rules to a zod schema; the CRD generator copies them into the OpenAPI schema. Rules add to
 * those already attached.
 */
export function cel<T extends z.ZodType>(schema: T, ...rules: (CelRule | CelMessageRule)[]): T {
  const existing = (schema.meta()?.["x-kubernetes-validations"] as CelRule[] | undefined) ?? [];
  return schema.meta({ "x-kubernetes-validations": [...existing, ...rules] });
}

/** A string literal for a CEL expression (single-quoted, backslashes and quotes escaped). */
export const celString = (text: string): string => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/**
 * A string that must match `pattern`, refused with `message` instead of the raw pattern: the apiserver
 * checks it with a CEL rule (an OpenAPI `pattern` would print the regular expression to the user) and zod
 * with a refinement carrying the same message. `message` says what is expected in words with an example.
 */
export function matching(schema: z.ZodString, pattern: RegExp, message: string): z.ZodString {
  return cel(
    schema.refine((value) => pattern.test(value), { message }),
    { rule: `self.matches(${celString(pattern.source)})`, message },
  );
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
  matching(
    z.string().min(1).max(max),
    DNS_LABEL,
    "must be lower-case letters, digits and '-', starting and ending with a letter or digit, e.g. housing-project",
  ).describe(`${what}: lower-case letters, digits and '-', starting and ending with a letter or digit.`);

/** An image reference: [registry[:port]/]path[:tag][@digest]. */
export const IMAGE_REF =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** A container image reference, checked as the registry would parse it. */
export const imageRef = () =>
  matching(
    z.string().min(1).max(512),
    IMAGE_REF,
    "must be an image reference [registry[:port]/]path[:tag][@sha256:digest] in lower case without spaces, e.g. registry.example.com/ml/iris:1.0",
  );

export const owner = () =>
  matching(z.string().max(254), EMAIL, "must be an email address, e.g. data-eng@example.com").describe(
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

/** A memory quantity as a string: "8Gi", "512Mi", "1.5G", or a bare number of GiB ("8", "4.5"). */
export const MEMORY_QUANTITY = /^([1-9][0-9]*(\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)(Ki|Mi|Gi|Ti|K|M|G|T)?$/;
/** Largest memory a bare number may ask for, in GiB. */
export const MAX_MEMORY_GIB = 4096;

export const MEMORY_MESSAGE =
  "must be a memory size such as 8Gi, 512Mi or a number of GiB such as 4.5 (units Ki, Mi, Gi, Ti count in 1024s, K, M, G, T in 1000s; no space, no B)";

/**
 * Memory: a Kubernetes quantity ("8Gi", "512Mi") or a bare number of GiB, as the seed's cluster JSON writes
 * it (`"memory": 8` means 8 GiB, `4.5` means 4.5 GiB). A structural schema has no number-or-string type
 * (int-or-string refuses 4.5) and allows no CEL rule on an untyped field, so the CRD leaves the field
 * untyped and the admission webhook and the controllers check it with this schema.
 */
export const memory = (what: string) =>
  z
    .union([
      z.number().positive().max(MAX_MEMORY_GIB),
      z
        .string()
        .max(32)
        .refine((value) => MEMORY_QUANTITY.test(value), { message: MEMORY_MESSAGE }),
    ])
    .meta({ [NUMBER_OR_STRING]: true })
    .describe(
      `Memory for ${what}: a Kubernetes quantity such as 8Gi or 512Mi, or a bare number meaning GiB (8 = 8Gi, 4.5 = 4.5Gi).`,
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
