/**
 * `hermes build`: an ArtifactBuild from a git URL, revision and path; with --follow, its progress (queue
 * position, phase) and its build log until it ends; with --deploy <serve>, once it has succeeded, the Serve
 * is pointed at it (spec.artifactBuildRef) and followed until Ready.
 */
import { type Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { buildJobName, SERVE_LABEL } from "../controllers/artifact-build/render/build-job.ts";
import { API_VERSION, ArtifactBuild } from "../crds/src/index.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import type { KubeObject } from "../operator/resource.ts";
import type { JobCommandContext } from "./job.ts";
import { ARTIFACT_BUILDS, applyResource, getResource, mergePatch, SERVES } from "./kube.ts";
import { EXIT, judgeServe, type Verdict, waitFor } from "./wait.ts";

const BuildView = z.looseObject({
  status: z
    .looseObject({
      phase: z.string().optional(),
      queuePosition: z.number().optional(),
      image: z.string().optional(),
      commitSha: z.string().optional(),
      logTail: z.string().optional(),
      conditions: z
        .array(z.looseObject({ type: z.string(), reason: z.string(), message: z.string() }))
        .optional(),
    })
    .optional(),
});

/** A build's standing: Succeeded is done; Failed and Cancelled failed; the rest waits, saying where it is. */
export function judgeBuild(object: KubeObject | undefined): Verdict {
  if (!object) return { state: "failed", text: "the ArtifactBuild is gone" };
  const name = object.metadata.name;
  const status = BuildView.safeParse(object).data?.status ?? {};
  const succeeded = status?.conditions?.find((c) => c.type === "Succeeded");
  switch (status.phase) {
    case "Succeeded":
      return {
        state: "done",
        text: `${name}: Succeeded: built ${status.commitSha ?? "?"}, pushed ${status.image ?? "?"}`,
      };
    case "Failed":
    case "Cancelled":
      return { state: "failed", text: `${name}: ${status.phase}: ${succeeded?.message ?? ""}` };
    case "Queued":
      return { state: "waiting", text: `${name}: Queued at position ${status.queuePosition ?? "?"}` };
    default:
      return { state: "waiting", text: `${name}: ${status.phase ?? "waiting for the operator"}` };
  }
}

const collect = (value: string, previous: { name: string; value: string }[] = []) => {
  const at = value.indexOf("=");
  if (at <= 0)
    throw new InvalidArgumentError("--build-arg must be NAME=VALUE, e.g. --build-arg PYTHON=3.11.");
  return [...previous, { name: value.slice(0, at), value: value.slice(at + 1) }];
};

const FLAG_OF: Record<string, string> = {
  "spec.source.git.url": "--git",
  "spec.source.git.revision": "--revision",
  "spec.source.contextDir": "--path",
  "spec.source.dockerfile": "--dockerfile",
  "spec.output.image": "--image",
  "spec.output.pushSecretRef.name": "--push-secret",
  "spec.timeoutSeconds": "--build-timeout",
};

/** The repository's name from its URL, as a DNS label part: https://host/org/Iris-Server.git -> iris-server. */
export function repositoryName(gitUrl: string): string {
  const last = gitUrl.replace(/\/+$/, "").split(/[/:]/).pop() ?? "";
  const name = last
    .replace(/\.git$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return /^[a-z]/.test(name) ? name.slice(0, 30) : `build-${name}`.slice(0, 30);
}

/** The default image: <DARWIN_REGISTRY>/<namespace>/<repository name>:<revision>. */
export function defaultImage(registry: string, namespace: string, gitUrl: string, revision: string): string {
  const tag = revision.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 128);
  return `${registry}/${namespace}/${repositoryName(gitUrl)}:${tag}`;
}

/** Prints the build pod's log as it is written, until the container ends; nothing when it cannot be read. */
async function streamLog(
  kube: KubeClient,
  namespace: string,
  build: string,
  out: { write(t: string): unknown },
) {
  const pods = (await kube.request({
    method: "GET",
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector: `batch.kubernetes.io/job-name=${buildJobName(build)}` },
  })) as { items?: KubeObject[] };
  const pod = pods.items?.[0];
  if (!pod) return false;
  try {
    const response = await kube.stream({
      method: "GET",
      path: `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/log`,
      query: { follow: "true" },
    });
    for await (const chunk of response) out.write(String(chunk));
    return true;
  } catch {
    // A pod not yet running (or on a node whose log cannot be reached) has no log to show yet.
    return false;
  }
}

export function addBuildCommand(program: Command, c: JobCommandContext & { env: NodeJS.ProcessEnv }): void {
  c.example(
    c
      .withWait(
        c.withOutput(
          program
            .command("build")
            .description(
              "Build an image from a git repository's Dockerfile (an ArtifactBuild); --follow shows its progress and log, --deploy <serve> deploys it once built",
            )
            .requiredOption("--git <url>", "repository URL: https://...git, ssh://, git:// or git@host:path")
            .option("--revision <rev>", "branch, tag or commit", "main")
            .option("--path <dir>", "build context directory inside the repository", ".")
            .option("--dockerfile <path>", "Dockerfile, relative to --path", "Dockerfile")
            .option(
              "--image <ref>",
              "image to push (default: $DARWIN_REGISTRY/<namespace>/<repository>:<revision>)",
            )
            .option("--build-arg <NAME=VALUE>", "Dockerfile ARG (repeatable)", collect)
            .option(
              "--push-secret <name>",
              "dockerconfigjson Secret with the registry's credentials",
              c.nameArg("--push-secret"),
            )
            .option("--name <name>", "ArtifactBuild name (default: <repository>-<time>)", c.nameArg("--name"))
            .option("--follow", "show the queue position, phase and build log until the build ends")
            .option(
              "--deploy <serve>",
              "once built, point this Serve at the image and wait until it is Ready",
              c.nameArg("--deploy"),
            )
            .option(
              "-n, --namespace <name>",
              "namespace of the build (and the Serve)",
              c.nameArg("--namespace"),
            ),
        ),
      )
      .action(async (opts) => {
        const namespace: string = opts.namespace ?? c.defaultNamespace();
        const registry = c.env.DARWIN_REGISTRY;
        if (!opts.image && !registry)
          throw c.usageError("--image is required (or set DARWIN_REGISTRY to the registry builds push to)");
        const image: string = opts.image ?? defaultImage(registry ?? "", namespace, opts.git, opts.revision);
        const name: string = opts.name ?? `${repositoryName(opts.git)}-${Date.now().toString(36)}`;
        const spec = {
          source: {
            git: { url: opts.git, revision: opts.revision },
            contextDir: opts.path,
            dockerfile: opts.dockerfile,
          },
          output: { image, ...(opts.pushSecret && { pushSecretRef: { name: opts.pushSecret } }) },
          ...(opts.buildArg && { buildArgs: opts.buildArg }),
        };
        const parsed = ArtifactBuild.spec.safeParse(spec);
        if (!parsed.success) {
          const lines = parsed.error.issues.map((issue) => {
            const field = ["spec", ...issue.path].join(".");
            const flag = FLAG_OF[field];
            return `${flag ? `${flag} (${field})` : field}: ${issue.message}`;
          });
          throw c.usageError(lines.join("\n"));
        }
        const object: KubeObject = {
          apiVersion: API_VERSION,
          kind: ArtifactBuild.kind,
          metadata: {
            name,
            namespace,
            ...(opts.deploy && { labels: { [SERVE_LABEL]: opts.deploy as string } }),
          },
          spec,
        };
        if (opts.dryRun) return c.printManifests([object], opts.output);
        if (opts.deploy && !(await getResource(c.kube(), SERVES, namespace, opts.deploy)))
          throw c.usageError(
            `--deploy: Serve ${opts.deploy} does not exist in namespace ${namespace} (hermes create-serve --name ${opts.deploy} ...)`,
          );
        await applyResource(c.kube(), ARTIFACT_BUILDS, object);
        c.io.stdout.write(`artifactbuild/${name} created in namespace ${namespace}: ${image}\n`);
        if (!opts.follow && !opts.deploy) return;

        const result = await followBuild(c, namespace, name, opts.timeout, opts.follow === true);
        if (result.code !== EXIT.ok) return c.setExit(result.code);
        if (!opts.deploy) return;
        await mergePatch(c.kube(), SERVES, namespace, opts.deploy, {
          spec: { artifactBuildRef: { name }, image: null },
        });
        c.io.stdout.write(`serve/${opts.deploy} deploys ${name}\n`);
        if (!opts.wait) return;
        const serve = await waitFor({
          client: c.kube(),
          kind: SERVES,
          namespace,
          name: opts.deploy,
          timeoutSeconds: opts.timeout,
          judge: judgeServe,
          stream: c.io.stderr as NodeJS.WriteStream,
        });
        c.setExit(serve.code);
      }),
    "hermes build --git https://github.com/org/iris-server.git --revision v1.2 --path serving --follow --deploy iris-classifier",
  );
}

/** Waits for the build to end, printing its standing and, with `log`, its build log once it runs. */
async function followBuild(
  c: JobCommandContext,
  namespace: string,
  name: string,
  timeoutSeconds: number,
  log: boolean,
): Promise<{ code: number }> {
  let logShown = false;
  let logging: Promise<boolean> | undefined;
  const result = await waitFor({
    client: c.kube(),
    kind: ARTIFACT_BUILDS,
    namespace,
    name,
    timeoutSeconds,
    stream: c.io.stderr as NodeJS.WriteStream,
    judge: (object) => {
      const verdict = judgeBuild(object);
      const phase = BuildView.safeParse(object).data?.status?.phase;
      if (log && !logShown && phase === "Building") {
        logShown = true;
        logging = streamLog(c.kube(), namespace, name, c.io.stdout).then((shown) => {
          logShown = shown;
          return shown;
        });
      }
      return verdict;
    },
  });
  // The log ends with the build container, before the build's status says so; its last lines are still
  // on their way when the status is read, so they are waited for (bounded: a log stream that hangs on an
  // unreachable node must not hold the command).
  if (logging) await Promise.race([logging, new Promise((r) => setTimeout(r, 10_000).unref())]);
  const tail = BuildView.safeParse(result.object).data?.status?.logTail;
  if (result.code === EXIT.failed && tail) c.io.stdout.write(`--- end of the build log ---\n${tail}\n`);
  return result;
}
