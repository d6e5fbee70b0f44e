/**
 * The hermes command line: the seed's serving commands (configure, create-environment, create-serve,
 * deploy-model) plus undeploy, rollback, list and status, and the compute commands (cluster create -f,
 * start, stop, list, status; job submit, logs, stop) and image builds (build). Every command reads and writes
 * Darwin's custom resources only (build --follow also reads its build pod's log).
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { parse as parseYaml, stringify } from "yaml";
import type { z } from "zod";
import { API_VERSION, Serve, ServeEnvironment } from "../crds/src/index.ts";
import { ApiError } from "../operator/api-error.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import type { KubeAccess } from "../operator/kubeconfig.ts";
import type { KubeObject } from "../operator/resource.ts";
import { addBuildCommand } from "./build.ts";
import { type HermesConfig, readConfig, writeConfig } from "./config.ts";
import { addFeatureCommands } from "./features.ts";
import { addFeaturesFetch } from "./features-fetch.ts";
import { addJobCommands } from "./job.ts";
import {
  applyResource,
  connect,
  DARWIN_CLUSTERS,
  getResource,
  listResources,
  loadKubeAccessFor,
  mergePatch,
  SERVE_ENVIRONMENTS,
  SERVES,
} from "./kube.ts";
import { SeedCluster, seedClusterErrors, seedClusterToDarwinCluster } from "./seed-cluster.ts";
import { table } from "./table.ts";
import { UsageError } from "./usage-error.ts";
import { EXIT, judgeCluster, judgeServe, waitFor } from "./wait.ts";

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function nameArg(flag: string) {
  return (value: string) => {
    if (value.length > 63 || !NAME.test(value)) {
      throw new InvalidArgumentError(
        `${flag} must be at most 63 lower-case letters, digits and '-', starting with a letter (e.g. iris-classifier).`,
      );
    }
    return value;
  };
}

function positiveNumber(flag: string, example: string) {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} must be a positive number, e.g. ${example}.`);
    return n;
  };
}

function wholeNumber(flag: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || n < min || n > 1000)
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to 1000.`);
    return n;
  };
}

/** --min-replicas: 0 would be scale to zero, which Serves do not do (crds/src/serve.ts says why). */
function minReplicasArg(value: string): number {
  if (value.trim() === "0")
    throw new InvalidArgumentError(
      "--min-replicas 0 (scale to zero) is not supported: nothing wakes a Serve on traffic; use --min-replicas 1 or more, or hermes undeploy to stop serving.",
    );
  return wholeNumber("--min-replicas", 1)(value);
}

/** --memory: a number of GiB, as the seed writes it (4), or a Kubernetes quantity (4Gi, 512Mi). */
function memoryArg(flag: string) {
  return (value: string): number | string => {
    if (/^[0-9]+(\.[0-9]+)?$/.test(value) && Number(value) > 0) return Number(value);
    if (/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)$/.test(value)) return value;
    throw new InvalidArgumentError(
      `${flag} must be a number of GiB (e.g. 4) or a quantity (e.g. 4Gi, 512Mi).`,
    );
  };
}

const FLAG_OF: Record<string, string> = {
  "metadata.name": "--name",
  "spec.environment": "--env",
  "spec.type": "--type",
  "spec.description": "--description",
  "spec.model.uri": "--model-uri",
  "spec.resources.cores": "--cores",
  "spec.resources.memory": "--memory",
  "spec.capacity": "--node-capacity",
  "spec.replicas.min": "--min-replicas",
  "spec.replicas.max": "--max-replicas",
  "spec.domainSuffix": "--domain-suffix",
  "spec.clusterName": "--cluster-name",
  "spec.namespace": "--namespace",
  "spec.ingressClassName": "--ingress-class",
  "spec.defaultCapacity": "--default-capacity",
  "spec.mlflowTrackingURI": "--mlflow-tracking-uri",
  "spec.defaultResources.cores": "--default-cores",
  "spec.defaultResources.memory": "--default-memory",
};

/** Checks a spec with the kind's schema; errors name the flag that set the field. */
function checkSpec(schema: z.ZodType, spec: unknown): void {
  const parsed = schema.safeParse(spec);
  if (parsed.success) return;
  const lines = parsed.error.issues.map((issue) => {
    const field = ["spec", ...issue.path].join(".");
    const flag = FLAG_OF[field];
    return `${flag ? `${flag} (${field})` : field}: ${issue.message}`;
  });
  throw new UsageError(lines.join("\n"));
}

/** Prints manifests for GitOps: YAML documents, or JSON (one object, or a v1 List). */
function printManifests(io: Io, objects: KubeObject[], format: string): void {
  if (format === "json") {
    const body = objects.length === 1 ? objects[0] : { apiVersion: "v1", kind: "List", items: objects };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    io.stdout.write(objects.map((o) => stringify(o)).join("---\n"));
  }
}

interface Globals {
  kubeconfig?: string;
  context?: string;
}

export function buildProgram(io: Io): { program: Command; exitCode: () => number; close: () => void } {
  let exitCode: number = EXIT.ok;
  const program = new Command("hermes");
  const config = (): HermesConfig => readConfig(io.env);
  const token = (): string | undefined => io.env.HERMES_USER_TOKEN ?? config().token;
  let client: KubeClient | undefined;
  /** The saved settings with --kubeconfig and --context applied. */
  const kubeSettings = (): HermesConfig => {
    const globals = program.opts<Globals>();
    return {
      ...config(),
      ...(globals.kubeconfig && { kubeconfig: globals.kubeconfig }),
      ...(globals.context && { context: globals.context }),
    };
  };
  const kube = (): KubeClient => {
    client ??= connect(kubeSettings(), token(), io.env);
    return client;
  };
  const space = (flag: string | undefined): string => flag ?? config().namespace ?? "serve";

  program
    .description(
      "Deploy models and run Ray clusters on Darwin: writes Darwin's custom resources to Kubernetes.",
    )
    .option(
      "--kubeconfig <path>",
      "kubeconfig file (default: hermes configure's, $KUBECONFIG, ~/.kube/config)",
    )
    .option("--context <name>", "kubeconfig context")
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const withOutput = (command: Command) =>
    command
      .option("--dry-run", "print the manifests instead of applying them (for GitOps)")
      .addOption(
        new Option("-o, --output <format>", "manifest format with --dry-run")
          .choices(["yaml", "json"])
          .default("yaml"),
      );
  const withWait = (command: Command) =>
    command
      .option("--no-wait", "return once applied, without waiting for Ready")
      .option("--timeout <seconds>", "how long to wait for Ready", positiveNumber("--timeout", "600"), 600);

  const example = (command: Command, text: string) => command.addHelpText("after", `\nExample:\n  ${text}\n`);

  // configure
  example(
    program
      .command("configure")
      .description(
        "Save the kubeconfig, context, namespace (space), environment and token hermes uses, in ~/.hermes/",
      )
      .option("--kubeconfig <path>", "kubeconfig file to use")
      .option("--context <name>", "kubeconfig context to use")
      .option(
        "--namespace <name>",
        "default namespace (space) of Serves and clusters",
        nameArg("--namespace"),
      )
      .option("--environment <name>", "default ServeEnvironment of new Serves", nameArg("--environment"))
      .option("--token <token>", "user token (default: $HERMES_USER_TOKEN)")
      .action((opts: HermesConfig) => {
        const saved = { ...config(), ...opts };
        const user = opts.token ?? io.env.HERMES_USER_TOKEN;
        if (user) saved.token = user;
        const file = writeConfig(saved, io.env);
        const shown = Object.entries(saved)
          .filter(([k]) => k !== "token")
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        io.stdout.write(`saved ${file}${shown ? `: ${shown}` : ""}${saved.token ? " (token set)" : ""}\n`);
      }),
    "hermes configure --namespace serve   # with HERMES_USER_TOKEN exported, as the seed does",
  );

  // create-environment
  example(
    withOutput(
      program
        .command("create-environment")
        .description("Create or update a ServeEnvironment: where and how the Serves of one environment run")
        .requiredOption("--name <name>", "environment name", nameArg("--name"))
        .requiredOption("--domain-suffix <suffix>", "domain appended to Serve hosts, e.g. .local")
        .option("--cluster-name <name>", "name of the Kubernetes cluster, for display")
        .option(
          "--namespace <name>",
          "namespace of the environment's Serves",
          nameArg("--namespace"),
          "serve",
        )
        .option("--ingress-class <name>", "IngressClass of Serve endpoints", "nginx")
        .addOption(
          new Option("--default-capacity <class>", "capacity class of Serves that name none")
            .choices(["spot", "on-demand"])
            .default("on-demand"),
        )
        .option("--mlflow-tracking-uri <url>", "MLflow that resolves model URIs (default: the operator's)")
        .option(
          "--default-cores <n>",
          "CPU cores per replica of Serves that set none (default 1)",
          positiveNumber("--default-cores", "2"),
        )
        .option(
          "--default-memory <amount>",
          "memory per replica of Serves that set none: GiB (4) or a quantity (4Gi); default 2Gi",
          memoryArg("--default-memory"),
        ),
    ).action(async (opts) => {
      const spec = {
        domainSuffix: opts.domainSuffix,
        ...(opts.clusterName && { clusterName: opts.clusterName }),
        namespace: opts.namespace,
        ingressClassName: opts.ingressClass,
        defaultCapacity: opts.defaultCapacity,
        ...(opts.mlflowTrackingUri && { mlflowTrackingURI: opts.mlflowTrackingUri }),
        ...((opts.defaultCores !== undefined || opts.defaultMemory !== undefined) && {
          defaultResources: {
            ...(opts.defaultCores !== undefined && { cores: opts.defaultCores }),
            ...(opts.defaultMemory !== undefined && { memory: opts.defaultMemory }),
          },
        }),
      };
      checkSpec(ServeEnvironment.spec, spec);
      const object: KubeObject = {
        apiVersion: API_VERSION,
        kind: "ServeEnvironment",
        metadata: { name: opts.name },
        spec,
      };
      if (opts.dryRun) return printManifests(io, [object], opts.output);
      await applyResource(kube(), SERVE_ENVIRONMENTS, object);
      io.stdout.write(
        `serveenvironment/${opts.name} applied (Serves in namespace ${opts.namespace}, hosts *${spec.domainSuffix})\n`,
      );
    }),
    "hermes create-environment --name local --domain-suffix .local --cluster-name kind --namespace serve",
  );

  // create-serve
  example(
    withOutput(
      program
        .command("create-serve")
        .description("Create or update a Serve (defined, not deployed: deploy-model deploys a model into it)")
        .requiredOption("--name <name>", "Serve name (its URL path is /<name>/predict)", nameArg("--name"))
        .addOption(
          new Option("--type <type>", "serving backend").choices(["api", "ray-serve"]).default("api"),
        )
        .option(
          "--space <namespace>",
          "namespace of the Serve (default: hermes configure's, else serve)",
          nameArg("--space"),
        )
        .option("--description <text>", "what the model serves")
        .option(
          "--env <name>",
          "ServeEnvironment (default: hermes configure's, else the one for --space)",
          nameArg("--env"),
        ),
    ).action(async (opts) => {
      const namespace = space(opts.space);
      const environment = opts.env ?? config().environment ?? (await environmentFor(namespace));
      const live = opts.dryRun ? undefined : await getResource(kube(), SERVES, namespace, opts.name);
      const kept = live ? userSpec(live) : {};
      const spec = {
        ...kept,
        environment,
        type: opts.type,
        ...(opts.description !== undefined && { description: opts.description }),
      };
      checkSpec(Serve.spec, spec);
      const object: KubeObject = {
        apiVersion: API_VERSION,
        kind: "Serve",
        metadata: { name: opts.name, namespace },
        spec,
      };
      if (opts.dryRun) return printManifests(io, [object], opts.output);
      await applyResource(kube(), SERVES, object);
      io.stdout.write(
        `serve/${opts.name} applied in namespace ${namespace} (environment ${environment}, type ${opts.type}); deploy a model with hermes deploy-model --serve-name ${opts.name} --model-uri ...\n`,
      );
    }),
    'hermes create-serve --name iris-classifier --type api --space serve --description "Iris classification model"',
  );

  /** The environment whose namespace is `namespace`, when exactly one is. */
  async function environmentFor(namespace: string): Promise<string> {
    const environments = await listResources(kube(), SERVE_ENVIRONMENTS, undefined);
    const matching = environments.filter(
      (e) => (e.spec as { namespace?: string } | undefined)?.namespace === namespace,
    );
    if (matching.length === 1 && matching[0]) return matching[0].metadata.name;
    const names = environments.map((e) => e.metadata.name).sort();
    if (matching.length === 0) {
      throw new UsageError(
        `--env: no ServeEnvironment runs Serves in namespace ${namespace}; ${names.length ? `pass --env with one of ${names.join(", ")} and its namespace as --space` : "create one first: hermes create-environment --name local --domain-suffix .local"}`,
      );
    }
    throw new UsageError(
      `--env: several ServeEnvironments use namespace ${namespace} (${matching.map((e) => e.metadata.name).join(", ")}); pass --env <name>`,
    );
  }

  async function liveServe(namespace: string, name: string): Promise<KubeObject> {
    const live = await getResource(kube(), SERVES, namespace, name);
    if (!live)
      throw new UsageError(
        `--serve-name: Serve ${name} does not exist in namespace ${namespace}; create it first: hermes create-serve --name ${name} --space ${namespace}`,
      );
    return live;
  }

  async function applyServeAndWait(
    opts: { dryRun?: boolean; output: string; wait: boolean; timeout: number },
    object: KubeObject,
    done: string,
  ) {
    checkSpec(Serve.spec, object.spec);
    if (opts.dryRun) return printManifests(io, [object], opts.output);
    const applied = await applyResource(kube(), SERVES, object);
    io.stdout.write(`serve/${object.metadata.name} ${done} (generation ${applied.metadata.generation})\n`);
    if (!opts.wait) return;
    const result = await waitFor({
      client: kube(),
      kind: SERVES,
      namespace: object.metadata.namespace,
      name: object.metadata.name,
      timeoutSeconds: opts.timeout,
      judge: judgeServe,
      stream: io.stderr as NodeJS.WriteStream,
    });
    exitCode = result.code;
  }

  // deploy-model
  example(
    withWait(
      withOutput(
        program
          .command("deploy-model")
          .description("Deploy a model into a Serve and wait until it is Ready (or failed)")
          .requiredOption("--serve-name <name>", "the Serve (hermes create-serve)", nameArg("--serve-name"))
          .requiredOption(
            "--model-uri <uri>",
            "models:/<name>@<alias>, models:/<name>/<version>, runs:/<run>/<path>, mlflow-artifacts:/<path> or s3://<bucket>/<key>",
          )
          .option("--cores <n>", "CPU cores per replica", positiveNumber("--cores", "2"))
          .option(
            "--memory <amount>",
            "memory per replica: GiB (4) or a quantity (4Gi)",
            memoryArg("--memory"),
          )
          .addOption(
            new Option("--node-capacity <class>", "capacity class (default: the environment's)").choices([
              "spot",
              "on-demand",
            ]),
          )
          .option("--min-replicas <n>", "fewest replicas (at least 1)", minReplicasArg)
          .option("--max-replicas <n>", "most replicas", wholeNumber("--max-replicas", 1))
          .option("--space <namespace>", "namespace of the Serve", nameArg("--space")),
      ),
    ).action(async (opts) => {
      const namespace = space(opts.space);
      const live = await liveServe(namespace, opts.serveName);
      const spec = userSpec(live);
      const resources = {
        ...(spec.resources as object),
        ...(opts.cores !== undefined && { cores: opts.cores }),
        ...(opts.memory !== undefined && { memory: opts.memory }),
      };
      const replicas = {
        ...(spec.replicas as { min?: number; max?: number }),
        ...(opts.minReplicas !== undefined && { min: opts.minReplicas }),
        ...(opts.maxReplicas !== undefined && { max: opts.maxReplicas }),
      };
      if (replicas.min !== undefined && replicas.max !== undefined && replicas.min > replicas.max) {
        throw new UsageError(
          `--min-replicas ${replicas.min} is more than --max-replicas ${replicas.max}: set --max-replicas to at least ${replicas.min}`,
        );
      }
      const desired = {
        ...spec,
        model: { uri: opts.modelUri },
        resources,
        replicas,
        ...(opts.nodeCapacity && { capacity: opts.nodeCapacity }),
      };
      await applyServeAndWait(
        opts,
        {
          apiVersion: API_VERSION,
          kind: "Serve",
          metadata: { name: opts.serveName, namespace },
          spec: desired,
        },
        `deploying ${opts.modelUri}`,
      );
    }),
    "hermes deploy-model --serve-name iris-classifier --model-uri models:/iris@champion --cores 2 --memory 4 --node-capacity spot --min-replicas 1 --max-replicas 2",
  );

  // undeploy
  example(
    withOutput(
      program
        .command("undeploy")
        .description(
          "Stop serving a Serve's model (the Serve stays; deploy-model or rollback brings a model back)",
        )
        .requiredOption("--serve-name <name>", "the Serve", nameArg("--serve-name"))
        .option("--space <namespace>", "namespace of the Serve", nameArg("--space")),
    ).action(async (opts) => {
      const namespace = space(opts.space);
      const spec = userSpec(await liveServe(namespace, opts.serveName));
      delete spec.model;
      await applyServeAndWait(
        { ...opts, wait: false, timeout: 0 },
        { apiVersion: API_VERSION, kind: "Serve", metadata: { name: opts.serveName, namespace }, spec },
        "undeployed",
      );
    }),
    "hermes undeploy --serve-name iris-classifier",
  );

  // rollback
  example(
    withWait(
      withOutput(
        program
          .command("rollback")
          .description(
            "Return a Serve to its previous revision (model version, image, resources, capacity) and wait for Ready",
          )
          .requiredOption("--serve-name <name>", "the Serve", nameArg("--serve-name"))
          .option("--space <namespace>", "namespace of the Serve", nameArg("--space")),
      ),
    ).action(async (opts) => {
      const namespace = space(opts.space);
      const live = await liveServe(namespace, opts.serveName);
      const previous = (live.status as z.output<typeof Serve.status> | undefined)?.previousRevision;
      if (!previous)
        throw new UsageError(
          `--serve-name: Serve ${opts.serveName} has no previous revision to return to (kubectl get serve ${opts.serveName} -n ${namespace} -o yaml shows status.currentRevision)`,
        );
      const spec = userSpec(live);
      const desired = {
        ...spec,
        model: { uri: previous.modelURI },
        resources: { cores: previous.cores, memory: previous.memory },
        capacity: previous.capacity,
        // A user image is part of the revision; Darwin's own server image is left to the operator.
        ...(spec.image !== undefined && { image: previous.image }),
      };
      await applyServeAndWait(
        opts,
        {
          apiVersion: API_VERSION,
          kind: "Serve",
          metadata: { name: opts.serveName, namespace },
          spec: desired,
        },
        `rolling back to revision ${previous.number} (${previous.modelURI})`,
      );
    }),
    "hermes rollback --serve-name iris-classifier",
  );

  // list
  example(
    program
      .command("list")
      .description("List Serves: name, environment, phase, model version, revision, URL")
      .option(
        "--space <namespace>",
        "namespace (default: hermes configure's, else serve)",
        nameArg("--space"),
      )
      .option("-A, --all-spaces", "every namespace")
      .action(async (opts) => {
        const serves = await listResources(kube(), SERVES, opts.allSpaces ? undefined : space(opts.space));
        const rows = serves.map((s) => {
          const spec = s.spec as { environment?: string; type?: string; model?: { uri?: string } };
          const status = (s.status ?? {}) as z.output<typeof Serve.status>;
          return [
            s.metadata.namespace ?? "",
            s.metadata.name,
            spec.environment ?? "",
            spec.type ?? "",
            status.phase ?? "",
            spec.model?.uri ?? "-",
            status.resolvedModel?.version ?? "-",
            String(status.revision ?? "-"),
            status.url ?? "",
          ];
        });
        io.stdout.write(
          table(["SPACE", "NAME", "ENV", "TYPE", "PHASE", "MODEL", "VERSION", "REVISION", "URL"], rows),
        );
      }),
    "hermes list --space serve",
  );

  // status
  example(
    program
      .command("status")
      .description("Show a Serve's phase, conditions, resolved model and revisions")
      .requiredOption("--serve-name <name>", "the Serve", nameArg("--serve-name"))
      .option("--space <namespace>", "namespace of the Serve", nameArg("--space"))
      .addOption(
        new Option("-o, --output <format>", "output format")
          .choices(["text", "yaml", "json"])
          .default("text"),
      )
      .action(async (opts) => {
        const live = await liveServe(space(opts.space), opts.serveName);
        if (opts.output !== "text") return printManifests(io, [live], opts.output);
        const status = (live.status ?? {}) as z.output<typeof Serve.status>;
        const lines = [
          `serve:     ${live.metadata.namespace}/${live.metadata.name}`,
          `phase:     ${status.phase ?? "Pending"}`,
          `url:       ${status.url ?? "-"}`,
          `model:     ${(live.spec as { model?: { uri?: string } }).model?.uri ?? "-"} -> ${status.resolvedModel?.name ? `${status.resolvedModel.name} version ${status.resolvedModel.version}` : "-"}`,
          `capacity:  ${status.capacity ?? "-"}`,
          `replicas:  ${status.replicas ? `${status.replicas.ready}/${status.replicas.desired}` : "-"}`,
          ...revisionLine("current", status.currentRevision),
          ...revisionLine("previous", status.previousRevision),
          ...(status.conditions ?? []).map((c) => `${c.type}: ${c.status} ${c.reason}: ${c.message}`),
        ];
        io.stdout.write(`${lines.join("\n")}\n`);
      }),
    "hermes status --serve-name iris-classifier",
  );

  addClusterCommands(
    program,
    io,
    kube,
    () => config().namespace ?? "default",
    (code) => {
      exitCode = code;
    },
    withOutput,
    withWait,
    example,
  );
  // The kubeconfig user's own token, else hermes's; the feature server is reachable without a kubeconfig.
  const featureServerToken = () => {
    let access: KubeAccess | undefined;
    try {
      access = loadKubeAccessFor(kubeSettings(), token(), io.env);
    } catch {
      access = undefined;
    }
    return access?.token?.type === "static" ? access.token.token : token();
  };
  addFeaturesFetch(program, io, {
    kube,
    bearerToken: featureServerToken,
    environment: () => config().environment,
    namespace: () => config().namespace,
  });
  const commandContext = {
    io,
    kube,
    defaultNamespace: () => config().namespace ?? "default",
    setExit: (code: number) => {
      exitCode = code;
    },
    withOutput,
    withWait,
    example,
    nameArg,
    checkSpec,
    printManifests: (objects: KubeObject[], format: string) => printManifests(io, objects, format),
    usageError: (message: string) => new UsageError(message),
  };
  addJobCommands(program, commandContext);
  addBuildCommand(program, { ...commandContext, env: io.env });
  addFeatureCommands(program, {
    io,
    kube,
    defaultNamespace: () => config().namespace ?? "default",
    environment: () => config().environment,
    token: featureServerToken,
    example,
  });
  return { program, exitCode: () => exitCode, close: () => client?.close() };
}

function revisionLine(label: string, r: z.output<typeof Serve.status>["currentRevision"]): string[] {
  if (!r) return [];
  const state = r.availableAt ? `available since ${r.availableAt}` : "not available";
  return [
    `${label.padEnd(9)}  revision ${r.number}: ${r.modelURI}, ${r.cores} cores, ${r.memory}, ${r.capacity}, ${r.image} (${state})`,
  ];
}

/** The fields of a live Serve's spec a user sets (everything but server-side defaults stays as it was). */
function userSpec(live: KubeObject): Record<string, unknown> {
  return { ...((live.spec ?? {}) as Record<string, unknown>) };
}

function addClusterCommands(
  program: Command,
  io: Io,
  kube: () => KubeClient,
  defaultNamespace: () => string,
  setExit: (code: number) => void,
  withOutput: (c: Command) => Command,
  withWait: (c: Command) => Command,
  example: (c: Command, text: string) => Command,
): void {
  const cluster = program
    .command("cluster")
    .description(
      "Ray clusters (DarwinCluster): create from the seed's cluster file, start, stop, list, status",
    );
  const ns = (flag: string | undefined) => flag ?? defaultNamespace();
  const nsOption = (c: Command) =>
    c.option(
      "-n, --namespace <name>",
      "namespace of the cluster (default: hermes configure's, else default)",
      nameArg("--namespace"),
    );
  const waitCluster = async (
    opts: { wait: boolean; timeout: number },
    namespace: string,
    name: string,
    want: "Ready" | "Suspended",
  ) => {
    if (!opts.wait) return;
    const result = await waitFor({
      client: kube(),
      kind: DARWIN_CLUSTERS,
      namespace,
      name,
      timeoutSeconds: opts.timeout,
      judge: judgeCluster(want),
      stream: io.stderr as NodeJS.WriteStream,
    });
    setExit(result.code);
  };

  example(
    withWait(
      withOutput(
        nsOption(
          cluster
            .command("create")
            .description(
              "Create a DarwinCluster from the seed's cluster JSON or YAML (cluster_name, head_node_config, worker_node_configs, inactive_time)",
            )
            .requiredOption("-f, --file <path>", "cluster file (JSON or YAML)"),
        ),
      ),
    ).action(async (opts) => {
      let input: unknown;
      try {
        input = parseYaml(readFileSync(opts.file, "utf8"));
      } catch (err) {
        throw new UsageError(`-f ${opts.file}: ${(err as Error).message}`);
      }
      const errors = seedClusterErrors(input);
      if (errors.length > 0) throw new UsageError(`-f ${opts.file}:\n  ${errors.join("\n  ")}`);
      const object = seedClusterToDarwinCluster(SeedCluster.parse(input), ns(opts.namespace));
      if (opts.dryRun) return printManifests(io, [object], opts.output);
      await applyResource(kube(), DARWIN_CLUSTERS, object);
      io.stdout.write(
        `darwincluster/${object.metadata.name} applied in namespace ${object.metadata.namespace}\n`,
      );
      await waitCluster(opts, ns(opts.namespace), object.metadata.name, "Ready");
    }),
    "hermes cluster create -f examples/cluster-config.yaml -n team-a",
  );

  for (const [verb, suspend, want] of [
    ["start", false, "Ready"],
    ["stop", true, "Suspended"],
  ] as const) {
    example(
      withWait(
        nsOption(
          cluster
            .command(verb)
            .description(
              verb === "start"
                ? "Start a stopped cluster and wait until Ready"
                : "Stop a cluster (its spec is kept) and wait until stopped",
            )
            .argument("<name>", "cluster name"),
        ),
      ).action(async (name: string, opts) => {
        const namespace = ns(opts.namespace);
        if (!(await getResource(kube(), DARWIN_CLUSTERS, namespace, name))) {
          throw new UsageError(
            `<name>: DarwinCluster ${name} does not exist in namespace ${namespace} (hermes cluster list -n ${namespace})`,
          );
        }
        await mergePatch(kube(), DARWIN_CLUSTERS, namespace, name, { spec: { suspend } });
        io.stdout.write(`darwincluster/${name} ${verb === "start" ? "starting" : "stopping"}\n`);
        await waitCluster(opts, namespace, name, want);
      }),
      `hermes cluster ${verb} housing-project -n team-a`,
    );
  }

  example(
    nsOption(cluster.command("list").description("List clusters: phase, workers, cost"))
      .option("-A, --all-namespaces", "every namespace")
      .action(async (opts) => {
        const items = await listResources(
          kube(),
          DARWIN_CLUSTERS,
          opts.allNamespaces ? undefined : ns(opts.namespace),
        );
        const rows = items.map((c) => {
          const s = (c.status ?? {}) as {
            phase?: string;
            workers?: { ready: number; desired: number };
            estimatedCostPerHour?: string;
          };
          return [
            c.metadata.namespace ?? "",
            c.metadata.name,
            (c.spec as { runtime?: string }).runtime ?? "",
            s.phase ?? "",
            s.workers ? `${s.workers.ready}/${s.workers.desired}` : "-",
            s.estimatedCostPerHour ?? "-",
          ];
        });
        io.stdout.write(table(["NAMESPACE", "NAME", "RUNTIME", "PHASE", "WORKERS", "COST/H"], rows));
      }),
    "hermes cluster list -n team-a",
  );

  example(
    nsOption(
      cluster
        .command("status")
        .description("Show a cluster's phase, URLs, workers and Ready condition")
        .argument("<name>", "cluster name"),
    ).action(async (name: string, opts) => {
      const namespace = ns(opts.namespace);
      const live = await getResource(kube(), DARWIN_CLUSTERS, namespace, name);
      if (!live)
        throw new UsageError(`<name>: DarwinCluster ${name} does not exist in namespace ${namespace}`);
      const s = (live.status ?? {}) as Record<string, unknown> & {
        conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
      };
      const lines = [
        `cluster:   ${namespace}/${name}`,
        ...["phase", "dashboardURL", "jupyterURL", "estimatedCostPerHour"].map(
          (k) => `${k}: ${String(s[k] ?? "-")}`,
        ),
      ];
      for (const c of s.conditions ?? []) lines.push(`${c.type}: ${c.status} ${c.reason}: ${c.message}`);
      io.stdout.write(`${lines.join("\n")}\n`);
    }),
    "hermes cluster status housing-project -n team-a",
  );
}

/** Runs hermes with `argv` (without node and script); resolves to the exit code. */
export async function runHermes(argv: string[], io: Io): Promise<number> {
  const { program, exitCode, close } = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode();
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
      return EXIT.ok;
    // commander already printed its own message (unknown option, invalid choice, missing option)
    if (typeof e.code === "string" && e.code.startsWith("commander.")) return EXIT.usage;
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      io.stderr.write(`error: the cluster refused: ${err.message}\n`);
      return err.code === 422 || err.code === 400 ? EXIT.usage : EXIT.error;
    }
    io.stderr.write(`error: ${(err as Error).message}\n`);
    return EXIT.error;
  } finally {
    // The client's keep-alive agent would hold the process open.
    close();
  }
}
