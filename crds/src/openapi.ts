/**
 * zod -> Kubernetes structural OpenAPI v3 schema. zod's own JSON Schema output is close; this pass makes it
 * structural (no $ref, no type inside anyOf), turns number|string unions into int-or-string, drops zod's
 * safe-integer bounds, and insists on a description for every field so `kubectl explain` is never empty.
 */
import { z } from "zod";

export type JSONSchemaProps = { [key: string]: unknown };

const SAFE_INT = 9007199254740991;

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

function structural(node: JSONSchemaProps, path: string): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  const anyOf = node.anyOf as JSONSchemaProps[] | undefined;
  if (anyOf) {
    Object.assign(out, intOrString(anyOf, path));
  }
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "anyOf":
        break;
      case "maximum":
      case "minimum":
        if (Math.abs(value as number) !== SAFE_INT) out[key] = value;
        break;
      case "properties":
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JSONSchemaProps>).map(([name, child]) => [
            name,
            structural(child, `${path}.${name}`),
          ]),
        );
        break;
      case "items":
        out.items = structural(value as JSONSchemaProps, `${path}[]`);
        break;
      case "additionalProperties":
        if (typeof value === "object" && value !== null) {
          out.additionalProperties = structural(value as JSONSchemaProps, `${path}.*`);
        }
        break;
      default:
        out[key] = value;
    }
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
