/**
 * zod -> Kubernetes structural OpenAPI v3 schema. zod's own JSON Schema output is close; this pass makes it
 * structural (no $ref, no type inside anyOf), turns integer|string unions into int-or-string and unions marked
 * number-or-string into untyped fields, drops zod's safe-integer bounds, leaves
 * defaults inside list items to zod, and insists on a description for every field so `kubectl explain` is
 * never empty.
 */
import { z } from "zod";

export type JSONSchemaProps = { [key: string]: unknown };

const SAFE_INT = 9007199254740991;

/**
 * Marks a number|string union (see `memory` in common.ts): structural schemas have no such type, so the field
 * is left untyped (`x-kubernetes-preserve-unknown-fields`) and checked by zod where the spec is parsed.
 */
export const NUMBER_OR_STRING = "x-darwin-number-or-string";

export function toStructuralSchema(schema: z.ZodType, path = "spec"): JSONSchemaProps {
  const json = z.toJSONSchema(schema, {
    io: "input",
    reused: "inline",
    target: "openapi-3.0",
    unrepresentable: "throw",
  });
  delete (json as JSONSchemaProps).$schema;
  return structural(json as JSONSchemaProps, path);
}

/**
 * `inList` is true below an array's items. Defaults there are not written into the CRD: kubectl's client-side
 * apply (a JSON merge patch, which replaces lists whole) and GitOps tools compare the applied list with the
 * stored one, and a default the apiserver filled into an item makes them differ forever ("configured" on
 * every apply). zod applies those defaults where the spec is parsed (webhooks, controllers).
 */
function structural(node: JSONSchemaProps, path: string, inList = false): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  const anyOf = node.anyOf as JSONSchemaProps[] | undefined;
  if (node[NUMBER_OR_STRING]) {
    // the apiserver gives CEL no view of an untyped field: the webhook and the controllers check it
    if (node["x-kubernetes-validations"])
      throw new Error(`${path}: CEL rules cannot run on an untyped field`);
    out["x-kubernetes-preserve-unknown-fields"] = true;
  } else if (anyOf) {
    Object.assign(out, intOrString(anyOf, path));
  }
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "anyOf":
      case NUMBER_OR_STRING:
        break;
      case "default":
        if (!inList) out[key] = value;
        break;
      case "maximum":
      case "minimum":
        if (Math.abs(value as number) !== SAFE_INT) out[key] = value;
        break;
      case "properties":
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JSONSchemaProps>).map(([name, child]) => [
            name,
            structural(child, `${path}.${name}`, inList),
          ]),
        );
        break;
      case "items":
        out.items = structural(value as JSONSchemaProps, `${path}[]`, true);
        break;
      case "additionalProperties":
        if (typeof value === "object" && value !== null) {
          out.additionalProperties = structural(value as JSONSchemaProps, `${path}.*`, inList);
        }
        break;
      default:
        out[key] = value;
    }
  }
  if (inList && node.default !== undefined && typeof out.description === "string") {
    // kubectl explain still tells the default the readers apply
    out.description = `${out.description} Default: ${JSON.stringify(node.default)}.`;
  }
  if (typeof out.description !== "string" || out.description.length === 0) {
    throw new Error(
      `${path} has no description: add .describe() to its zod schema (kubectl explain shows it)`,
    );
  }
  return out;
}

/** A union of an integer and a string becomes `x-kubernetes-int-or-string` with each branch's bounds. */
function intOrString(branches: JSONSchemaProps[], path: string): JSONSchemaProps {
  const types = new Set(branches.map((b) => b.type));
  if (branches.length !== 2 || !types.has("string") || !(types.has("integer") || types.has("number"))) {
    throw new Error(`${path}: only integer|string unions can be expressed in a structural schema`);
  }
  const out: JSONSchemaProps = { "x-kubernetes-int-or-string": true };
  for (const branch of branches) {
    for (const [key, value] of Object.entries(branch)) {
      if (key === "type") continue;
      if ((key === "maximum" || key === "minimum") && Math.abs(value as number) === SAFE_INT) continue;
      out[key] = value;
    }
  }
  return out;
}
