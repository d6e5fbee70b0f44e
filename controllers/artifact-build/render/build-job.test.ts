import { describe, expect, it } from "vitest";
import { DEFAULT_ARTIFACT_BUILDS } from "../config.ts";
import { sampleBuild } from "../fixtures.ts";
import { BUILD_CONTAINER, buildJobName, buildkitdConfig, renderBuildJob } from "./build-job.ts";
import { BUILD_SCRIPT } from "./build-script.ts";

const OPTIONS = {
  image: "moby/buildkit:v0.34.2-rootless",
  insecureRegistries: [],
  resources: DEFAULT_ARTIFACT_BUILDS.resources,
};

const container = (job: ReturnType<typeof renderBuildJob>) => {
  const found = job.spec?.template.spec?.containers.find((c) => c.name === BUILD_CONTAINER);
  if (!found) throw new Error("no build container");
  return found;
};
const env = (job: ReturnType<typeof renderBuildJob>) =>
  Object.fromEntries((container(job).env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

describe("renderBuildJob", () => {
  it("renders the sample's build Job (snapshot; the script elided)", () => {
    const job = JSON.parse(
      JSON.stringify(renderBuildJob(sampleBuild(), OPTIONS)).replace(
        JSON.stringify(BUILD_SCRIPT).slice(1, -1),
        "<build.sh>",
      ),
    );
    expect(job).toMatchSnapshot();
  });

  it("runs once, stopped at timeoutSeconds, and kept ttlSecondsAfterFinished", () => {
    const job = renderBuildJob(sampleBuild({ timeoutSeconds: 120, ttlSecondsAfterFinished: 600 }), OPTIONS);
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 120,
      ttlSecondsAfterFinished: 600,
    });
    expect(job.spec?.template.spec?.restartPolicy).toBe("Never");
    expect(job.metadata.name).toBe("iris-server-build");
  });

  it("hands the source, Dockerfile, output and build args to the script as data, never as script text", () => {
    const job = renderBuildJob(
      sampleBuild({
        source: {
          git: { url: "git://127.0.0.1:9418/iris.git", revision: "v1" },
          contextDir: "serving",
          dockerfile: "docker/Dockerfile",
        },
        buildArgs: [{ name: "PYTHON", value: "3.11; rm -rf /" }],
      }),
      OPTIONS,
    );
    expect(container(job).command).toEqual(["/bin/sh", "-c", BUILD_SCRIPT, "build"]);
    expect(container(job).args).toEqual(["PYTHON=3.11; rm -rf /"]);
    expect(env(job)).toMatchObject({
      DARWIN_GIT_URL: "git://127.0.0.1:9418/iris.git",
      DARWIN_GIT_REVISION: "v1",
      DARWIN_CONTEXT_DIR: "serving",
      DARWIN_DOCKERFILE: "docker/Dockerfile",
      DARWIN_OUTPUT_IMAGE: "registry.example.com/ml/iris:1.0",
    });
    expect(container(job).terminationMessagePolicy).toBe("FallbackToLogsOnError");
  });

  it("mounts the push Secret as the Docker config and marks insecure registries for pull and push", () => {
    const insecure = renderBuildJob(sampleBuild({ output: { image: "127.0.0.1:25500/ml/iris:1.0" } }), {
      ...OPTIONS,
      insecureRegistries: ["127.0.0.1:25500"],
    });
    expect(env(insecure)).toMatchObject({
      DARWIN_PUSH_INSECURE: "true",
      DARWIN_BUILDKITD_TOML: '[registry."127.0.0.1:25500"]\n  http = true\n  insecure = true\n',
    });
    expect(insecure.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(["buildkitd"]);

    const secure = renderBuildJob(sampleBuild(), OPTIONS);
    expect(env(secure)).not.toHaveProperty("DARWIN_PUSH_INSECURE");
    expect(env(secure).DOCKER_CONFIG).toBe("/home/user/.docker");
    expect(secure.spec?.template.spec?.volumes).toContainEqual({
      name: "push-credentials",
      secret: { secretName: "registry-creds", items: [{ key: ".dockerconfigjson", path: "config.json" }] },
    });
  });

  it("reads git credentials: basic-auth as environment, ssh-auth as a key file", () => {
    const https = renderBuildJob(
      sampleBuild({
        source: { git: { url: "https://git.example.com/ml/iris.git", cloneSecretRef: { name: "git" } } },
      }),
      OPTIONS,
    );
    expect(env(https).GIT_PASSWORD).toEqual({ secretKeyRef: { name: "git", key: "password" } });
    const ssh = renderBuildJob(
      sampleBuild({
        source: { git: { url: "git@git.example.com:ml/iris.git", cloneSecretRef: { name: "key" } } },
      }),
      OPTIONS,
    );
    expect(env(ssh).DARWIN_GIT_SSH_KEY).toBe("/run/darwin/git-ssh/ssh-privatekey");
    expect(ssh.spec?.template.spec?.volumes).toContainEqual({
      name: "git-ssh",
      secret: { secretName: "key", defaultMode: 0o400 },
    });
  });

  it("runs rootless: uid 1000 with the profiles rootlesskit needs", () => {
    expect(container(renderBuildJob(sampleBuild(), OPTIONS)).securityContext).toEqual({
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: "Unconfined" },
      appArmorProfile: { type: "Unconfined" },
    });
  });

  it("places build pods with the configured node selector", () => {
    const job = renderBuildJob(sampleBuild(), { ...OPTIONS, nodeSelector: { pool: "build" } });
    expect(job.spec?.template.spec?.nodeSelector).toEqual({ pool: "build" });
    expect(renderBuildJob(sampleBuild(), OPTIONS).spec?.template.spec).not.toHaveProperty("nodeSelector");
  });

  it("requests the configured resources, and none when none are configured", () => {
    expect(container(renderBuildJob(sampleBuild(), OPTIONS)).resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
    });
    const unset = renderBuildJob(sampleBuild(), { ...OPTIONS, resources: { cpu: undefined } });
    expect(container(unset)).not.toHaveProperty("resources");
  });

  it("names the Job within 63 characters", () => {
    expect(buildJobName("a".repeat(52))).toHaveLength(58);
    expect(buildkitdConfig([])).toBe("");
  });
});
