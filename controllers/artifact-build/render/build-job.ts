/**
 * The Job running one ArtifactBuild: rootless BuildKit (buildctl-daemonless.sh starts buildkitd in the pod
 * and stops it after the build) with the dockerfile.v0 frontend reading the git repository at the resolved
 * commit, pushing the image, and reporting the commit and digest through the container's termination
 * message. Pure.
 */
import type { V1EnvVar, V1Job, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { z } from "zod";
import type { ArtifactBuildSpec } from "../../../crds/src/artifact-build.ts";
import { darwinKey } from "../../shared/labels.ts";
import { boundedName } from "../../shared/names.ts";
import type { Rendered } from "../../shared/rendered.ts";
import { JOBS } from "../../shared/resource-types.ts";
import { parseImageReference } from "../image-reference.ts";
import { BUILD_SCRIPT } from "./build-script.ts";

export type BuildSpec = z.output<typeof ArtifactBuildSpec>;

export interface BuildInput {
  metadata: { name: string; namespace?: string | undefined };
  spec: BuildSpec;
}

export interface BuildJobOptions {
  /** Rootless BuildKit image. */
  image: string;
  /** Registries (host[:port]) reached over plain HTTP, for pulls of base images and the push. */
  insecureRegistries: readonly string[];
  /** Node labels the build pod must match. @default {} */
  nodeSelector?: Record<string, string>;
  /** Requests of the build container; none set leaves it without requests. */
  resources: { cpu?: string | undefined; memory?: string | undefined };
}

/** The label naming the ArtifactBuild on its Job and pod. */
export const BUILD_LABEL = darwinKey("artifact-build");
/** The label tying a build to the Serve it is for (hermes build --deploy sets it); history is kept per Serve. */
export const SERVE_LABEL = darwinKey("serve");
/** The container running the build; its termination message carries the result. */
export const BUILD_CONTAINER = "build";
/** The rootless image's user and its home. */
const BUILD_USER = 1000;
const HOME = "/home/user";
const SSH_KEY_DIR = "/run/darwin/git-ssh";

/** The build Job's name: the ArtifactBuild's (at most 52 characters, the CRD says) plus -build. */
export const buildJobName = (build: string): string => boundedName(build, 63, "-build");

/** buildkitd.toml marking each insecure registry as plain HTTP. */
export function buildkitdConfig(insecureRegistries: readonly string[]): string {
  return insecureRegistries
    .map((registry) => `[registry."${registry}"]\n  http = true\n  insecure = true\n`)
    .join("\n");
}

export function renderBuildJob(build: BuildInput, options: BuildJobOptions): Rendered<V1Job> {
  const { spec } = build;
  const git = spec.source.git;
  const labels = { [BUILD_LABEL]: build.metadata.name };
  const requests = Object.fromEntries(
    Object.entries(options.resources).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const requested = Object.keys(requests).length > 0 ? requests : undefined;
  const insecurePush = options.insecureRegistries.includes(parseImageReference(spec.output.image).registry);
  const env: V1EnvVar[] = [
    { name: "DARWIN_GIT_URL", value: git.url },
    { name: "DARWIN_GIT_REVISION", value: git.revision },
    { name: "DARWIN_CONTEXT_DIR", value: spec.source.contextDir },
    { name: "DARWIN_DOCKERFILE", value: spec.source.dockerfile },
    { name: "DARWIN_OUTPUT_IMAGE", value: spec.output.image },
    ...(insecurePush ? [{ name: "DARWIN_PUSH_INSECURE", value: "true" }] : []),
    { name: "DARWIN_BUILDKITD_TOML", value: buildkitdConfig(options.insecureRegistries) },
    // The pod has no user namespace of its own to spare for a process sandbox (BuildKit's rootless
    // Kubernetes example runs the same way).
    { name: "BUILDKITD_FLAGS", value: "--oci-worker-no-process-sandbox" },
    { name: "HOME", value: HOME },
  ];
  const volumes: V1Volume[] = [{ name: "buildkitd", emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: "buildkitd", mountPath: `${HOME}/.local/share/buildkit` }];
  if (spec.output.pushSecretRef) {
    volumes.push({
      name: "push-credentials",
      secret: {
        secretName: spec.output.pushSecretRef.name,
        items: [{ key: ".dockerconfigjson", path: "config.json" }],
      },
    });
    mounts.push({ name: "push-credentials", mountPath: `${HOME}/.docker`, readOnly: true });
    env.push({ name: "DOCKER_CONFIG", value: `${HOME}/.docker` });
  }
  if (git.cloneSecretRef) {
    const secretName = git.cloneSecretRef.name;
    if (/^ssh:\/\/|^[^\s@/]+@[^\s:]+:/.test(git.url)) {
      volumes.push({ name: "git-ssh", secret: { secretName, defaultMode: 0o400 } });
      mounts.push({ name: "git-ssh", mountPath: SSH_KEY_DIR, readOnly: true });
      env.push(
        { name: "DARWIN_GIT_SSH_KEY", value: `${SSH_KEY_DIR}/ssh-privatekey` },
        {
          name: "GIT_SSH_COMMAND",
          value: `ssh -i ${SSH_KEY_DIR}/ssh-privatekey -o StrictHostKeyChecking=accept-new`,
        },
      );
    } else {
      const key = (k: string) => ({ secretKeyRef: { name: secretName, key: k } });
      env.push(
        { name: "GIT_USERNAME", valueFrom: key("username") },
        { name: "GIT_PASSWORD", valueFrom: key("password") },
      );
    }
  }
  return {
    apiVersion: JOBS.apiVersion,
    kind: JOBS.kind,
    metadata: {
      name: buildJobName(build.metadata.name),
      ...(build.metadata.namespace !== undefined && { namespace: build.metadata.namespace }),
      labels,
    },
    spec: {
      // One execution: a failed build is reported, never retried behind the user's back.
      backoffLimit: 0,
      activeDeadlineSeconds: spec.timeoutSeconds,
      ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          ...(options.nodeSelector &&
            Object.keys(options.nodeSelector).length > 0 && { nodeSelector: options.nodeSelector }),
          containers: [
            {
              name: BUILD_CONTAINER,
              image: options.image,
              command: ["/bin/sh", "-c", BUILD_SCRIPT, "build"],
              args: spec.buildArgs.map((arg) => `${arg.name}=${arg.value}`),
              env,
              // The script writes the result (or the failing step and the log's end); a container killed
              // before it could falls back to the end of its log.
              terminationMessagePolicy: "FallbackToLogsOnError",
              securityContext: {
                runAsUser: BUILD_USER,
                runAsGroup: BUILD_USER,
                // rootlesskit creates user and mount namespaces, which the default profiles forbid.
                seccompProfile: { type: "Unconfined" },
                appArmorProfile: { type: "Unconfined" },
              },
              ...(requested && { resources: { requests: requested } }),
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}
