/** ArtifactBuild: build a container image from a git repository's Dockerfile and push it. */
import { z } from "zod";
import { cel, imageRef, keyValue, listMap, matching, secretRef, statusBase } from "./common.ts";
import { defineKind } from "./kind.ts";

const ArtifactBuildFields = z
  .object({
    source: z
      .object({
        git: z
          .object({
            url: matching(
              z.string().max(2048),
              /^(https?|ssh|git):\/\/[^\s]+$|^[^\s@]+@[^\s:]+:[^\s]+$/,
              "must be a git repository URL: https://, ssh://, git:// or git@host:path, e.g. https://github.com/org/repo.git",
            ).describe("Repository URL: https://, ssh://, git:// or scp-like git@host:path."),
            revision: z.string().min(1).max(256).default("main").describe("Branch, tag or commit to build."),
            cloneSecretRef: secretRef("git credentials (basic-auth or ssh-auth)").optional(),
          })
          .describe("Git repository holding the build context."),
        contextDir: cel(
          matching(
            z.string().max(1024),
            /^[^/]/,
            "must be a path relative to the repository root (not starting with '/'), e.g. . or services/iris",
          )
            .default(".")
            .describe("Directory inside the repository used as build context; relative, without '..'."),
          {
            rule: "!self.contains('..')",
            message: "contextDir may not contain '..': it must stay inside the repository",
          },
        ),
        dockerfile: z
          .string()
          .min(1)
          .max(1024)
          .default("Dockerfile")
          .describe("Dockerfile path relative to contextDir."),
      })
      .describe("Where the build context comes from."),
    output: z
      .object({
        image: imageRef().describe("Image to push, e.g. registry.example.com/ml/iris:1.0."),
        pushSecretRef: secretRef("registry credentials (a dockerconfigjson Secret)").optional(),
      })
      .describe("Where the built image goes."),
    buildArgs: listMap(
      z.array(keyValue("build argument")).max(64).default([]).describe("Dockerfile ARG values."),
      "name",
    ),
    timeoutSeconds: z
      .number()
      .int()
      .min(60)
      .max(86400)
      .default(1800)
      .describe(
        "Fail the build (phase Failed, reason DeadlineExceeded) when it has run this many seconds; the build Job's activeDeadlineSeconds.",
      ),
    ttlSecondsAfterFinished: z
      .number()
      .int()
      .min(0)
      .max(2592000)
      .default(86400)
      .describe(
        "Keep the finished build Job, its pod and its log this long (the Job's ttlSecondsAfterFinished).",
      ),
    cancel: z
      .boolean()
      .default(false)
      .describe(
        "Set to true to cancel: a queued build never starts, a running build's Job and pod are deleted; phase Cancelled. The one field that may change after creation, and only from false to true.",
      ),
  })
  .describe("Desired build: source repository and revision, Dockerfile, output image and limits.");

/**
 * The fields of an object schema to compare one by one: its leaves, with an optional object counted as one
 * field. `optional` fields may be absent on either side.
 */
function fieldsOf(schema: z.ZodType, prefix: string[] = []): { path: string[]; optional: boolean }[] {
  if (schema instanceof z.ZodOptional) return [{ path: prefix, optional: true }];
  const inner = schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema;
  if (!(inner instanceof z.ZodObject)) return [{ path: prefix, optional: false }];
  return Object.entries(inner.shape).flatMap(([key, child]) =>
    fieldsOf(child as z.ZodType, [...prefix, key]),
  );
}

/** spec.cancel is the one field an edit may change (false to true), so the immutability rules skip it. */
const MUTABLE = new Set(["cancel"]);

/**
 * CEL giving the changed fields of the spec, e.g. ` spec.source.git.revision spec.timeoutSeconds`, so the
 * refusal of an edit names them. Defaulted fields are always stored, so only optional ones need has(). A
 * concatenation of literals, as filtered or joined lists would count as unbounded in the cost estimate.
 */
const changedFields = (schema: z.ZodType): string =>
  fieldsOf(schema)
    .filter(({ path }) => !MUTABLE.has(path.join(".")))
    .map(({ path, optional }) => {
      const field = path.join(".");
      const differs = optional
        ? `(has(self.${field}) != has(oldSelf.${field}) || (has(self.${field}) && self.${field} != oldSelf.${field}))`
        : `self.${field} != oldSelf.${field}`;
      return `(${differs} ? ' spec.${field}' : '')`;
    })
    .join(" + ");

export const ArtifactBuildSpec = cel(
  ArtifactBuildFields,
  {
    rule: "self.ttlSecondsAfterFinished >= 60 || self.ttlSecondsAfterFinished == 0",
    message: "ttlSecondsAfterFinished must be 0 (delete at once) or at least 60 so the outcome can be read",
    fieldPath: ".ttlSecondsAfterFinished",
  },
  {
    rule: `(${changedFields(ArtifactBuildFields)}) == ''`,
    message: "an ArtifactBuild is one execution and cannot be changed: create a new ArtifactBuild",
    messageExpression: `'an ArtifactBuild is one execution and cannot be changed (changed:' + ${changedFields(ArtifactBuildFields)} + '): create a new ArtifactBuild with the new spec; only spec.cancel may be set'`,
  },
  {
    rule: "self.cancel || !oldSelf.cancel",
    message:
      "a cancelled build stays cancelled: spec.cancel cannot go back to false; create a new ArtifactBuild",
    fieldPath: ".cancel",
  },
);

export const ArtifactBuildStatus = z
  .object({
    phase: z
      .enum(["Queued", "Building", "Succeeded", "Failed", "Cancelled"])
      .optional()
      .describe(
        "Queued, Building, Succeeded, Failed or Cancelled (the Succeeded condition's reason says why).",
      ),
    queuePosition: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("While Queued: 1 starts next, 2 after it, and so on; absent in other phases."),
    imageDigest: z.string().optional().describe("Digest of the pushed image (sha256:...)."),
    image: z.string().optional().describe("The pushed image by digest (repository@sha256:...)."),
    imageSize: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Bytes of the pushed image: its config and compressed layers as the registry stores them."),
    commitSha: z.string().optional().describe("Commit that was built."),
    failedStep: z.string().optional().describe("On failure: the step that failed (e.g. [2/3] RUN make)."),
    logTail: z.string().optional().describe("On failure: the end of the build's log."),
    jobName: z.string().optional().describe("Name of the Job running the build."),
    startTime: z.string().optional().describe("When the build started (RFC 3339)."),
    completionTime: z.string().optional().describe("When the build finished (RFC 3339)."),
    ...statusBase,
  })
  .describe("Observed state of the build.");

export const ArtifactBuild = defineKind({
  kind: "ArtifactBuild",
  plural: "artifactbuilds",
  singular: "artifactbuild",
  shortNames: ["ab"],
  scope: "Namespaced",
  description:
    "ArtifactBuild builds a container image from a git repository's Dockerfile with rootless BuildKit and pushes it; Serves can run the result.",
  spec: ArtifactBuildSpec,
  status: ArtifactBuildStatus,
  maxNameLength: 52, // the build Job appends "-build" and its pods a further suffix
  printerColumns: [
    { name: "Image", type: "string", jsonPath: ".spec.output.image", description: "Output image." },
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Phase." },
    {
      name: "Queue",
      type: "integer",
      jsonPath: ".status.queuePosition",
      description: "Queue position.",
      priority: 1,
    },
    {
      name: "Digest",
      type: "string",
      jsonPath: ".status.imageDigest",
      description: "Pushed digest.",
      priority: 1,
    },
  ],
});
