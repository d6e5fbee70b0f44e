/**
 * DarwinJob rules beyond the CRD schema: a job is one submission to Ray, so its spec never changes (CEL
 * refuses it too; this names each changed field).
 */
import { isDeepStrictEqual } from "node:util";
import { DarwinJob } from "../../crds/src/index.ts";
import type { FieldError } from "./field-error.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

export function validateDarwinJob(object: unknown, oldObject: unknown): FieldError[] {
  const { spec, errors } = parseResource(DarwinJob, object);
  if (!spec || oldObject === undefined) return errors;
  const old = parseResource(DarwinJob, oldObject).spec;
  if (!old) return errors;
  const fields = new Set([...Object.keys(old), ...Object.keys(spec)]) as Set<keyof typeof spec>;
  for (const field of fields) {
    if (isDeepStrictEqual(old[field], spec[field])) continue;
    errors.push({
      field: `spec.${field}`,
      message: "changed, but a DarwinJob is one submission to Ray and cannot change",
      fix: "create a new DarwinJob with the new spec and delete this one (deleting a running job stops it)",
    });
  }
  return errors;
}

export const darwinJobValidator: KindValidator = { kind: DarwinJob, needs: [], validate: validateDarwinJob };
