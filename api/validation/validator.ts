/** The shape of one kind's validation module, as the webhook and the reconcilers call it. */
import type { KindDefinition } from "../../crds/src/index.ts";
import type { LookupName, ValidationContext } from "./context.ts";
import type { FieldError } from "./field-error.ts";

/**
 * Validates a whole resource (metadata + spec). `oldObject` is the stored resource on an update and
 * undefined on a create; rules that compare versions (immutability, version bumps) or that should not
 * re-judge an unchanged reference (a runtime deprecated after the cluster was made) read it.
 */
export type Validate = (object: unknown, oldObject: unknown, context: ValidationContext) => FieldError[];

/** Non-blocking advice for an accepted change, shown by kubectl as `Warning: ...`. */
export type Warn = (object: unknown, oldObject: unknown, context: ValidationContext) => string[];

export interface KindValidator {
  kind: KindDefinition;
  /** The lookups the rules read; the webhook loads only these. */
  needs: readonly LookupName[];
  validate: Validate;
  warnings?: Warn;
}
