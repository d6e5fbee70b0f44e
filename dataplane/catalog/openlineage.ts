/**
 * OpenLineage RunEvents: validated against the OpenLineage JSON schema shipped in ./openlineage/ (spec
 * 2-0-2, what openlineage-python 1.x emits), with Ajv, the maintained JSON Schema validator that implements
 * draft 2020-12. A violation is reported with the field's path (`run.runId`), so a client sees what to fix.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { z } from "zod";

const SPEC_PATH = join(import.meta.dirname, "openlineage", "OpenLineage.json");
const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as { $id: string };

// ajv-formats is CommonJS with a default export; under Node's ESM interop it arrives as the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(spec);
const validateRunEventSchema = ajv.compile({ $ref: `${spec.$id}#/$defs/RunEvent` });

/** The parts of a RunEvent the catalog keeps; the schema has already checked the rest. */
const dataset = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  facets: z.record(z.string(), z.unknown()).optional(),
});
export const runEvent = z.looseObject({
  eventType: z.enum(["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]).optional(),
  eventTime: z.string(),
  producer: z.string(),
  run: z.looseObject({ runId: z.string(), facets: z.record(z.string(), z.unknown()).optional() }),
  job: z.looseObject({
    namespace: z.string(),
    name: z.string(),
    facets: z.record(z.string(), z.unknown()).optional(),
  }),
  inputs: z.array(dataset).default([]),
  outputs: z.array(dataset).default([]),
});
export type RunEvent = z.infer<typeof runEvent>;

export interface RunEventIssue {
  field: string;
  message: string;
}

/** The event, or every schema violation with its field path (most specific first). */
export function validateRunEvent(body: unknown): { event: RunEvent } | { issues: RunEventIssue[] } {
  if (validateRunEventSchema(body)) return { event: runEvent.parse(body) };
  const issues = (validateRunEventSchema.errors ?? [])
    // allOf/anyOf wrappers repeat what their branches say.
    .filter((e) => e.keyword !== "allOf" && e.keyword !== "anyOf" && e.keyword !== "if")
    .map(issueOf);
  const unique = [...new Map(issues.map((i) => [`${i.field}|${i.message}`, i])).values()];
  unique.sort((a, b) => b.field.split(".").length - a.field.split(".").length);
  return { issues: unique.length > 0 ? unique : [{ field: "body", message: "is not a RunEvent" }] };
}

function issueOf(error: ErrorObject): RunEventIssue {
  let path = error.instancePath
    .split("/")
    .filter((p) => p.length > 0)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (error.keyword === "required") path = [...path, String(error.params.missingProperty)];
  const field = path.reduce(
    (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    "",
  );
  const message =
    error.keyword === "required"
      ? "is required"
      : error.keyword === "format"
        ? `must be a valid ${String(error.params.format)}`
        : error.keyword === "enum"
          ? `must be one of ${(error.params.allowedValues as string[]).join(", ")}`
          : (error.message ?? "is invalid");
  return { field: field || "body", message };
}
