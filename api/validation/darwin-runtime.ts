/**
 * DarwinRuntime rules beyond the CRD schema: a displayName must pick out one runtime, and the declared Ray
 * and Python versions must agree with the image tag when the tag states them (KubeRay relies on rayVersion).
 */
import { DarwinRuntime } from "../../crds/src/index.ts";
import type { ValidationContext } from "./context.ts";
import { type FieldError, quote } from "./field-error.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

export function validateDarwinRuntime(
  object: unknown,
  oldObject: unknown,
  context: ValidationContext,
): FieldError[] {
  const { meta, spec, errors } = parseResource(DarwinRuntime, object);
  if (!spec) return errors;
  const old = oldObject === undefined ? undefined : parseResource(DarwinRuntime, oldObject).spec;
  const others = context.lookups.listRuntimes().filter((r) => r.name !== meta.name);

  if (old === undefined || old.displayName !== spec.displayName) {
    const sameDisplay = others.find((r) => r.spec.displayName === spec.displayName);
    const sameName = others.find((r) => r.name === spec.displayName);
    if (sameDisplay) {
      errors.push({
        field: "spec.displayName",
        message: `${quote(spec.displayName)} is already the displayName of DarwinRuntime ${quote(sameDisplay.name)}`,
        fix: "choose a displayName no other runtime uses (clusters select runtimes by it)",
      });
    } else if (sameName) {
      errors.push({
        field: "spec.displayName",
        message: `${quote(spec.displayName)} is the name of DarwinRuntime ${quote(sameName.name)}, so clusters naming it would be ambiguous`,
        fix: "choose a displayName that is not another runtime's name",
      });
    }
  }

  const tag = imageTag(spec.image);
  const tagRay = tag?.match(/^v?([0-9]+\.[0-9]+\.[0-9]+)(?:$|[-_.])/)?.[1];
  if (tagRay && tagRay !== spec.rayVersion) {
    errors.push({
      field: "spec.rayVersion",
      message: `${quote(spec.rayVersion)} does not match the image tag ${quote(tag)} (Ray ${tagRay})`,
      fix: `set rayVersion to ${quote(tagRay)} or use an image of Ray ${spec.rayVersion}: KubeRay starts nodes by this version`,
    });
  }
  const tagPython = tag?.match(/(?:^|[-_.])py([0-9])([0-9]+)(?:$|[-_.])/);
  if (tagPython) {
    const python = `${tagPython[1]}.${tagPython[2]}`;
    if (python !== spec.pythonVersion) {
      errors.push({
        field: "spec.pythonVersion",
        message: `${quote(spec.pythonVersion)} does not match the image tag ${quote(tag)} (Python ${python})`,
        fix: `set pythonVersion to ${quote(python)} or use an image with Python ${spec.pythonVersion}`,
      });
    }
  }
  return errors;
}

/** The tag of an image reference (`rayproject/ray:2.37.0-py310` -> `2.37.0-py310`), if it has one. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split("@")[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? undefined : withoutDigest.slice(colon + 1);
}

export const darwinRuntimeValidator: KindValidator = {
  kind: DarwinRuntime,
  needs: ["runtimes"],
  validate: validateDarwinRuntime,
};
