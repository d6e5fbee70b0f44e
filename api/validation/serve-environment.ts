/**
 * ServeEnvironment rules beyond the CRD schema: its service URLs must be URLs a pod can reach, and its
 * default memory enough for a model server.
 */
import { ServeEnvironment } from "../../crds/src/index.ts";
import { type FieldError, quote } from "./field-error.ts";
import { memoryFieldErrors } from "./memory.ts";
import { parseResource } from "./schema.ts";
import { SERVER_MEMORY } from "./serve.ts";
import type { KindValidator } from "./validator.ts";

export function validateServeEnvironment(object: unknown): FieldError[] {
  const { spec, errors } = parseResource(ServeEnvironment, object);
  if (!spec) return errors;
  for (const key of ["mlflowTrackingURI", "featureServerURL"] as const) {
    const value = spec[key];
    if (value === undefined) continue;
    const problem = urlProblem(value);
    if (problem)
      errors.push({
        field: `spec.${key}`,
        message: `${quote(value)} ${problem}`,
        fix: "write a URL such as http://mlflow.mlflow.svc:5000",
      });
  }
  errors.push(
    ...memoryFieldErrors("spec.defaultResources.memory", spec.defaultResources.memory, SERVER_MEMORY),
  );
  return errors;
}

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.hostname === "") return "has no host";
  if (url.username || url.password)
    return "carries credentials, which would be shown to every reader of the resource";
  return undefined;
}

export const serveEnvironmentValidator: KindValidator = {
  kind: ServeEnvironment,
  needs: [],
  validate: validateServeEnvironment,
};
