/**
 * ArtifactBuild rules beyond the CRD schema: a build is one execution, so its spec never changes (CEL refuses
 * it too; this names each changed field), except spec.cancel, which may turn true; an http(s) repository URL
 * ends in .git (BuildKit reads any other as a file to download); ssh sources need credentials; the Dockerfile stays inside the
 * context; build arguments are valid ARG names; the output is a tag, never a digest.
 */
import { isDeepStrictEqual } from "node:util";
import { ArtifactBuild } from "../../crds/src/index.ts";
import { type FieldError, fieldPath, type PathSegment, quote } from "./field-error.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SSH_URL = /^ssh:\/\/|^[^\s@/]+@[^\s:]+:/;

export function validateArtifactBuild(object: unknown, oldObject: unknown): FieldError[] {
  const { spec, errors } = parseResource(ArtifactBuild, object);
  if (!spec) return errors;
  if (oldObject !== undefined) {
    const old = parseResource(ArtifactBuild, oldObject).spec;
    if (old) {
      const { cancel: oldCancel, ...oldFixed } = old;
      const { cancel, ...fixed } = spec;
      if (oldCancel && !cancel) {
        errors.push({
          field: "spec.cancel",
          message: "changed from true to false, but a cancelled build stays cancelled",
          fix: "create a new ArtifactBuild to build again",
        });
      }
      for (const change of changedLeaves(oldFixed, fixed, ["spec"])) {
        errors.push({
          field: change.field,
          message: `changed from ${change.before} to ${change.after}, but an ArtifactBuild is one build and cannot change`,
          fix: "create a new ArtifactBuild with the new spec (e.g. with a -2 suffix) and delete this one when done",
        });
      }
    }
  }
  const git = spec.source.git;
  const http = /^https?:\/\/([^/]+)(\/[^#?]*)?/.exec(git.url);
  if (http && http[1] !== "github.com" && !(http[2] ?? "").endsWith(".git")) {
    errors.push({
      field: "spec.source.git.url",
      message: `${quote(git.url)} does not end in .git, so BuildKit would fetch it as a plain HTTP file instead of cloning it`,
      fix: `use the repository's clone URL, e.g. ${quote(`${git.url.replace(/\/+$/, "")}.git`)}`,
    });
  }
  if (SSH_URL.test(git.url) && !git.cloneSecretRef) {
    errors.push({
      field: "spec.source.git.cloneSecretRef",
      message: `is required: ${quote(git.url)} is an ssh URL and ssh always authenticates`,
      fix: "name a kubernetes.io/ssh-auth Secret holding a deploy key, or use the https:// URL of a public repository",
    });
  }
  if (spec.source.dockerfile.startsWith("/") || spec.source.dockerfile.split("/").includes("..")) {
    errors.push({
      field: "spec.source.dockerfile",
      message: `${quote(spec.source.dockerfile)} leaves the build context`,
      fix: "give a path relative to contextDir without '..', or move contextDir up",
    });
  }
  spec.buildArgs.forEach((arg, i) => {
    if (!ARG_NAME.test(arg.name)) {
      errors.push({
        field: fieldPath("spec", "buildArgs", i, "name"),
        message: `${quote(arg.name)} is not a Dockerfile ARG name`,
        fix: "use letters, digits and '_', not starting with a digit",
      });
    }
  });
  if (spec.output.image.includes("@")) {
    errors.push({
      field: "spec.output.image",
      message: `${quote(spec.output.image)} contains a digest, but a push goes to a tag`,
      fix: "remove the @sha256:... part; the pushed digest appears in status.imageDigest",
    });
  }
  return errors;
}

interface Change {
  field: string;
  before: string;
  after: string;
}

/** The leaf fields that differ between two values, with their paths; arrays compare as whole values. */
export function changedLeaves(before: unknown, after: unknown, path: PathSegment[]): Change[] {
  if (isDeepStrictEqual(before, after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedLeaves(before[key], after[key], [...path, key]));
  }
  const show = (v: unknown) => (v === undefined ? "(unset)" : quote(v));
  return [{ field: fieldPath(...path), before: show(before), after: show(after) }];
}

export const artifactBuildValidator: KindValidator = {
  kind: ArtifactBuild,
  needs: [],
  validate: validateArtifactBuild,
};
