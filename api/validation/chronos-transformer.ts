/**
 * ChronosTransformer rules beyond the CRD schema: `match` and `transform` must compile as JSONata, so a typo
 * is refused at apply time with its position instead of failing every event in the processor.
 */
import jsonata from "jsonata";
import { ChronosTransformer } from "../../crds/src/index.ts";
import type { FieldError } from "./field-error.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

export function validateChronosTransformer(object: unknown): FieldError[] {
  const { spec, errors } = parseResource(ChronosTransformer, object);
  if (!spec) return errors;
  for (const key of ["match", "transform"] as const) {
    const error = jsonataSyntaxError(spec[key]);
    if (error) errors.push({ field: `spec.${key}`, ...error });
  }
  return errors;
}

/** Compiles a JSONata expression; on a syntax error, says what and where (line and column, 1-based). */
export function jsonataSyntaxError(expression: string): Omit<FieldError, "field"> | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (error) {
    const { code, position, token, message } = error as {
      code?: string;
      position?: number;
      token?: string;
      message?: string;
    };
    const where = locate(expression, typeof position === "number" ? position : undefined, token === "(end)");
    return {
      message: `JSONata syntax error${where.at}: ${message ?? String(error)}${code ? ` (${code})` : ""}`,
      fix: `correct the expression${where.near}; try it against a sample event at https://try.jsonata.org`,
    };
  }
}

/** JSONata positions count characters up to and including the offending token. */
function locate(text: string, position: number | undefined, atEnd: boolean): { at: string; near: string } {
  if (position === undefined) return { at: "", near: "" };
  const trimmed = text.trimEnd();
  const offset = atEnd ? trimmed.length : Math.max(0, Math.min(text.length, position));
  const excerpt = `\`${trimmed
    .slice(Math.max(0, offset - 24), offset)
    .replace(/\s+/g, " ")
    .trim()}\``;
  if (atEnd) return { at: " at the end of the expression", near: ` after ${excerpt}` };
  const before = text.slice(0, offset - 1);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n") - 1;
  return { at: ` at line ${line}, column ${column}`, near: ` near ${excerpt}` };
}

export const chronosTransformerValidator: KindValidator = {
  kind: ChronosTransformer,
  needs: [],
  validate: validateChronosTransformer,
};
