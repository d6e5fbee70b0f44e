/**
 * The first pass of every kind's validation: parse the resource's spec with the kind's zod schema and turn
 * each zod issue into a field error with a readable problem and fix.
 */
import { z } from "zod";
import type { KindDefinition } from "../../crds/src/index.ts";
import { type FieldError, fieldPath, type PathSegment, quote } from "./field-error.ts";

/** The parts of a resource every validator reads besides its spec. */
export interface ResourceMeta {
  name: string;
  namespace?: string;
  generation?: number;
  labels: Record<string, string>;
  deletionTimestamp?: string;
}

const Envelope = z.object({
  metadata: z
    .object({
      name: z.string().optional(),
      generateName: z.string().optional(),
      namespace: z.string().optional(),
      generation: z.number().optional(),
      labels: z.record(z.string(), z.string()).optional(),
      deletionTimestamp: z.string().optional(),
    })
    .default({}),
  spec: z.unknown(),
});

export interface ParsedResource<Spec> {
  meta: ResourceMeta;
  /** The spec with schema defaults applied; undefined when the schema rejected it. */
  spec: Spec | undefined;
  errors: FieldError[];
}

/** Parses `object` (a whole resource: metadata + spec) against the kind's spec schema. */
export function parseResource<Spec extends z.ZodType>(
  kind: KindDefinition<Spec>,
  object: unknown,
): ParsedResource<z.output<Spec>> {
  const envelope = Envelope.safeParse(object);
  if (!envelope.success) {
    return {
      meta: { name: "", labels: {} },
      spec: undefined,
      errors: [
        {
          field: "",
          message: `is not a ${kind.kind} object`,
          fix: "send a JSON object with metadata and spec",
        },
      ],
    };
  }
  const { metadata, spec } = envelope.data;
  const meta: ResourceMeta = {
    name: metadata.name ?? metadata.generateName ?? "",
    labels: metadata.labels ?? {},
    ...(metadata.namespace !== undefined && { namespace: metadata.namespace }),
    ...(metadata.generation !== undefined && { generation: metadata.generation }),
    ...(metadata.deletionTimestamp !== undefined && { deletionTimestamp: metadata.deletionTimestamp }),
  };
  if (spec === undefined || spec === null) {
    return {
      meta,
      spec: undefined,
      errors: [{ field: "spec", message: "is required", fix: `add the ${kind.kind} spec` }],
    };
  }
  const parsed = kind.spec.safeParse(spec, { reportInput: true });
  if (parsed.success) return { meta, spec: parsed.data, errors: [] };
  return { meta, spec: undefined, errors: zodIssuesToFieldErrors(kind, parsed.error.issues) };
}

/** Maps zod issues (paths relative to the spec) to field errors under `spec`. */
export function zodIssuesToFieldErrors(
  kind: KindDefinition,
  issues: readonly z.core.$ZodIssue[],
): FieldError[] {
  return issues.map((issue) => {
    const path = ["spec", ...issue.path.filter((s): s is PathSegment => typeof s !== "symbol")];
    return { field: fieldPath(...path), ...describeIssue(issue, fieldDescription(kind, path.slice(1))) };
  });
}

function describeIssue(issue: z.core.$ZodIssue, description: string | undefined): Omit<FieldError, "field"> {
  const expected = description ? `expected ${lowerFirst(description)}` : undefined;
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined)
        return { message: "is required", fix: expected ?? `set a ${issue.expected}` };
      return {
        message: `must be ${article(issue.expected)}, not ${article(jsonType(issue.input))}`,
        ...fix(expected),
      };
    case "too_small":
      return {
        message: bound(issue.origin, "at least", "more than", issue.minimum, issue.inclusive),
        ...fix(expected),
      };
    case "too_big":
      return {
        message: bound(issue.origin, "at most", "less than", issue.maximum, issue.inclusive),
        ...fix(expected),
      };
    case "invalid_format":
      return {
        message: `${issue.input === undefined ? "value" : JSON.stringify(issue.input)} has the wrong format`,
        ...fix(expected),
      };
    case "invalid_value":
      return {
        message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
        fix: `use one of: ${issue.values.join(", ")}`,
      };
    case "invalid_union":
      return { message: "has the wrong type or format", ...fix(expected) };
    case "custom":
      // refinements carry their own words and example (see matching() in crds/src/common.ts)
      return {
        message: issue.input === undefined ? issue.message : `${quote(issue.input)} ${issue.message}`,
      };
    case "unrecognized_keys":
      return {
        message: `has unknown fields ${issue.keys.join(", ")}`,
        fix: "remove them (check their spelling)",
      };
    case "not_multiple_of":
      return { message: `must be a multiple of ${issue.divisor}` };
    default:
      return { message: issue.message, ...fix(expected) };
  }
}

const fix = (text: string | undefined): { fix?: string } => (text ? { fix: text } : {});

function bound(
  origin: string,
  inclusiveWord: string,
  exclusiveWord: string,
  limit: number | bigint,
  inclusive?: boolean,
): string {
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  switch (origin) {
    case "string":
      return limit === 1 && word === "at least"
        ? "must not be empty"
        : `must have ${word} ${limit} characters`;
    case "array":
    case "set":
      return `must have ${word} ${limit} items`;
    default:
      return `must be ${word} ${limit}`;
  }
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
/** "Name of the group." -> "name of the group"; acronyms ("CPU cores") keep their case. */
const lowerFirst = (text: string) => {
  const trimmed = text.replace(/\.$/, "");
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed.charAt(0).toLowerCase() + trimmed.slice(1) : trimmed;
};

type JsonSchemaNode = {
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
};

const jsonSchemas = new WeakMap<z.ZodType, JsonSchemaNode>();

/** The `.describe()` text of the field at `path` (relative to the spec), used as the fix of format errors. */
export function fieldDescription(kind: KindDefinition, path: readonly PathSegment[]): string | undefined {
  let root = jsonSchemas.get(kind.spec);
  if (!root) {
    root = z.toJSONSchema(kind.spec, {
      io: "input",
      reused: "inline",
      unrepresentable: "any",
    }) as JsonSchemaNode;
    jsonSchemas.set(kind.spec, root);
  }
  let node: JsonSchemaNode | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    if (typeof segment === "number") node = node.items;
    else
      node =
        node.properties?.[segment] ??
        (typeof node.additionalProperties === "object" ? node.additionalProperties : undefined);
  }
  return node?.description;
}
