/**
 * Field errors: what every validation rule returns, and the one-message format the admission webhook and the
 * reconcilers' conditions show to users.
 */

/** One problem with one field of a resource. */
export interface FieldError {
  /** Path of the field, e.g. `spec.workerGroups[1].maxPods`; `spec` when the problem spans the whole spec. */
  field: string;
  /** What is wrong, e.g. `DarwinRuntime "Ray9-CPU" does not exist`. */
  message: string;
  /** What to do about it, e.g. `use one of: Ray2.37.0-Py310-CPU`. */
  fix?: string;
}

/** One segment of a field path: a property name or an array index. */
export type PathSegment = string | number;

/** `["spec", "workerGroups", 1, "maxPods"]` -> `spec.workerGroups[1].maxPods`. */
export function fieldPath(...segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

/** `spec.runtime: DarwinRuntime "x" does not exist; use one of: a, b`. */
export function formatFieldError(error: FieldError): string {
  return error.fix ? `${error.field}: ${error.message}; ${error.fix}` : `${error.field}: ${error.message}`;
}

/**
 * Every error in one message, numbered so a long list stays readable on one `kubectl` line:
 * `2 errors: (1) spec.runtime: ...; ... (2) spec.workerGroups[0].gpus: ...; ...`.
 */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  if (errors.length === 0) return "";
  const first = errors[0];
  if (errors.length === 1 && first) return formatFieldError(first);
  return `${errors.length} errors: ${errors.map((e, i) => `(${i + 1}) ${formatFieldError(e)}`).join(" ")}`;
}

/** Errors without repeats (two rules may notice the same problem), in the order the rules found them. */
export function normalizeFieldErrors(errors: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    const key = `${error.field}\u0000${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(error);
  }
  return out;
}

/** Shows a user value in a message: strings quoted, other values as JSON, long ones shortened. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 76)}...${text.at(-1)}` : text;
}
