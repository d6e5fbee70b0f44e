/**
 * Serve rules beyond the CRD schema: the environment must exist, never changes, and decides the namespace;
 * model URIs must name a version or alias; memory must be enough for a model server. A Serve of either type
 * may name no model yet (the seed's create-serve before deploy-model): it waits for one.
 */
import { Serve } from "../../crds/src/index.ts";
import type { ValidationContext } from "./context.ts";
import { type FieldError, quote } from "./field-error.ts";
import { memoryFieldErrors } from "./memory.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

/** models:/<name>/<version or stage> or models:/<name>@<alias>: MLflow cannot resolve a bare models:/<name>. */
const REGISTRY_URI = /^models:\/[^/@\s]+(\/[^/@\s]+|@[A-Za-z0-9_-]+)$/;
/** runs:/<run id>/<artifact path>. */
const RUN_URI = /^runs:\/[0-9a-f]{32}\/\S+$/;

/** The least memory a model server replica may ask for (a Serve's, or its environment's default). */
export const SERVER_MEMORY = { min: 128 * 2 ** 20, minReason: "a model server needs" };

export function validateServe(object: unknown, oldObject: unknown, context: ValidationContext): FieldError[] {
  const { meta, spec, errors } = parseResource(Serve, object);
  if (!spec) return errors;
  const old = oldObject === undefined ? undefined : parseResource(Serve, oldObject).spec;

  if (old && old.environment !== spec.environment) {
    errors.push({
      field: "spec.environment",
      message: `changed from ${quote(old.environment)} to ${quote(spec.environment)}, but the environment of a Serve is immutable`,
      fix: "set it back, or create a new Serve in the other environment and delete this one",
    });
  } else if (!old) {
    const environment = context.lookups.findServeEnvironment(spec.environment);
    if (!environment) {
      const known = context.lookups
        .listServeEnvironments()
        .map((e) => e.name)
        .sort();
      errors.push({
        field: "spec.environment",
        message: `ServeEnvironment ${quote(spec.environment)} does not exist`,
        fix: known.length
          ? `use one of: ${known.join(", ")}`
          : "create it first (hermes create-environment, or kubectl apply a ServeEnvironment)",
      });
    } else if (meta.namespace !== undefined && meta.namespace !== environment.spec.namespace) {
      errors.push({
        field: "metadata.namespace",
        message: `environment ${quote(spec.environment)} runs its Serves in namespace ${quote(environment.spec.namespace)}, not ${quote(meta.namespace)}`,
        fix: `create the Serve in namespace ${environment.spec.namespace}`,
      });
    }
  }

  const uri = spec.model?.uri;
  if (uri?.startsWith("models:/") && !REGISTRY_URI.test(uri)) {
    errors.push({
      field: "spec.model.uri",
      message: `${quote(uri)} names no version or alias of the registered model`,
      fix: "write models:/<name>@<alias> (e.g. models:/iris@champion) or models:/<name>/<version>",
    });
  } else if (uri?.startsWith("runs:/") && !RUN_URI.test(uri)) {
    errors.push({
      field: "spec.model.uri",
      message: `${quote(uri)} is not a run artifact URI`,
      fix: "write runs:/<32-hex-digit run id>/<artifact path>, e.g. runs:/0123...cdef/model",
    });
  }
  const memory = spec.resources?.memory;
  if (memory !== undefined) errors.push(...memoryFieldErrors("spec.resources.memory", memory, SERVER_MEMORY));
  return errors;
}

export const serveValidator: KindValidator = {
  kind: Serve,
  needs: ["serveEnvironments"],
  validate: validateServe,
};
