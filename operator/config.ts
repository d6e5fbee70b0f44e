/**
 * The operator's configuration: one typed, validated object, from defaults, then a YAML or JSON file
 * (--config or $DARWIN_OPERATOR_CONFIG), then environment variables. Unknown keys are errors (a typo must
 * not silently fall back to a default), and every error names the field and where its value came from.
 * This is the runtime's part; an application extends the schema with its own sections (`extendConfig`)
 * and their environment variables.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { isPlainObject, type JsonObject } from "./json.ts";

/** A namespace name (RFC 1123 label). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const seconds = (what: string) => z.number().positive().describe(`${what}, in seconds (fractions allowed).`);
export const port = (what: string) =>
  z.number().int().min(0).max(65535).describe(`${what} (0 picks a free port).`);

export const operatorConfig = z
  .strictObject({
    namespaces: z
      .array(z.string().regex(DNS_LABEL, "must be a namespace name (RFC 1123 label)"))
      .default([])
      .describe("Namespaces watched; empty watches all namespaces."),
    workers: z.number().int().min(1).max(64).default(4).describe("Concurrent reconciles per controller."),
    resyncPeriodSeconds: seconds(
      "How often every cached object is reconciled again without a change",
    ).default(600),
    shutdownTimeoutSeconds: seconds("How long a shutdown waits for reconciles in flight").default(30),
    shutdownDelaySeconds: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "After SIGTERM, keep answering HTTP (webhooks, probes; /readyz says 503) at least this long before closing, while Services stop routing here (in a cluster, the endpoint update reaches kube-proxy a moment after the pod starts terminating), in seconds.",
      ),
    cacheSyncTimeoutSeconds: seconds(
      "How long controllers wait for their caches' first list before the others start without them",
    ).default(120),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    watch: z
      .strictObject({
        silenceTimeoutSeconds: seconds(
          "Restart a watch that sent nothing, not even a bookmark, for this long",
        ).default(150),
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .default(300)
          .describe("Server-side watch timeout (randomised up to twice this)."),
        maxBackoffSeconds: seconds("Longest wait between failed lists or watches").default(10),
      })
      .prefault({}),
    queue: z
      .strictObject({
        baseBackoffMs: z
          .number()
          .positive()
          .default(5)
          .describe("First retry delay of a failed reconcile, in ms."),
        maxBackoffSeconds: seconds("Longest retry delay of a failed reconcile").default(300),
        retryQps: z
          .number()
          .positive()
          .default(10)
          .describe("Retries of failed reconciles per second, over all objects of a controller."),
        retryBurst: z
          .number()
          .int()
          .min(1)
          .default(100)
          .describe("How many retries may pass at once before retryQps spaces them."),
      })
      .prefault({}),
    leaderElection: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Run reconcilers only in the replica holding the Lease."),
        namespace: z.string().regex(DNS_LABEL).default("darwin-system").describe("Namespace of the Lease."),
        leaseName: z.string().min(1).default("darwin-operator").describe("Name of the Lease."),
        leaseDurationSeconds: z
          .number()
          .int()
          .min(1)
          .default(15)
          .describe("How long a Lease holds without renewal."),
        renewDeadlineSeconds: seconds(
          "How long the leader keeps trying to renew before it stops leading",
        ).default(10),
        retryPeriodSeconds: seconds("How often candidates try, and the leader renews").default(2),
      })
      .prefault({})
      .refine((l) => l.renewDeadlineSeconds < l.leaseDurationSeconds, {
        message: "renewDeadlineSeconds must be less than leaseDurationSeconds",
        path: ["renewDeadlineSeconds"],
      })
      .refine((l) => l.retryPeriodSeconds < l.renewDeadlineSeconds, {
        message: "retryPeriodSeconds must be less than renewDeadlineSeconds",
        path: ["retryPeriodSeconds"],
      }),
    http: z
      .strictObject({
        host: z.string().default("0.0.0.0"),
        port: port("Port of /metrics, /healthz and /readyz").default(8080),
      })
      .prefault({}),
  })
  .describe("Configuration of the operator runtime.");

export type OperatorConfig = z.infer<typeof operatorConfig>;

/** Configuration that could not be used; the message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type EnvKind = "string" | "number" | "boolean" | "list";

/** An environment variable and the config field it sets. */
export interface EnvVar {
  name: string;
  path: string[];
  kind: EnvKind;
}

/** The runtime's environment variables. */
export const ENV_VARS: readonly EnvVar[] = [
  { name: "DARWIN_NAMESPACES", path: ["namespaces"], kind: "list" },
  { name: "DARWIN_WORKERS", path: ["workers"], kind: "number" },
  { name: "DARWIN_RESYNC_PERIOD_SECONDS", path: ["resyncPeriodSeconds"], kind: "number" },
  { name: "DARWIN_LOG_LEVEL", path: ["logLevel"], kind: "string" },
  { name: "DARWIN_LEADER_ELECTION", path: ["leaderElection", "enabled"], kind: "boolean" },
  { name: "DARWIN_LEADER_ELECTION_NAMESPACE", path: ["leaderElection", "namespace"], kind: "string" },
  { name: "DARWIN_HTTP_PORT", path: ["http", "port"], kind: "number" },
];

/** A configuration schema and the environment variables that set its fields. */
export interface ConfigSchema<C extends OperatorConfig> {
  schema: z.ZodType<C>;
  env: readonly EnvVar[];
}

/** The runtime's configuration alone (what tests of the runtime use). */
export const RUNTIME_CONFIG: ConfigSchema<OperatorConfig> = { schema: operatorConfig, env: ENV_VARS };

/**
 * The runtime's configuration with an application's sections added (unknown keys stay errors) and the
 * variables that set them.
 */
export function extendConfig<S extends z.core.$ZodLooseShape>(shape: S, env: readonly EnvVar[] = []) {
  return { schema: operatorConfig.extend(shape), env: [...ENV_VARS, ...env] };
}

function envValue(raw: string, kind: EnvKind): unknown {
  switch (kind) {
    case "string":
      return raw;
    case "number":
      // Not a number stays a string, so the schema reports it with the field's name.
      return raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case "boolean":
      return raw === "true" ? true : raw === "false" ? false : raw;
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
  }
}

function setPath(target: JsonObject, path: string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    if (!isPlainObject(node[segment])) node[segment] = {};
    node = node[segment] as JsonObject;
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

export interface ConfigSources {
  /** Path of a YAML or JSON file. */
  file?: string | undefined;
  /** Environment (process.env by default). */
  env?: Record<string, string | undefined>;
}

/** Reads, merges and validates the configuration; throws ConfigError naming each bad field. */
export function loadConfig<C extends OperatorConfig = OperatorConfig>(
  sources: ConfigSources = {},
  config: ConfigSchema<C> = RUNTIME_CONFIG as unknown as ConfigSchema<C>,
): C {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.DARWIN_OPERATOR_CONFIG;
  let raw: JsonObject = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`config file ${file} could not be read: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined && !isPlainObject(parsed)) {
      throw new ConfigError(`config file ${file} must hold a mapping of settings`);
    }
    raw = parsed ?? {};
  }
  const fromEnv = new Map<string, string>();
  for (const { name, path, kind } of config.env) {
    const value = env[name];
    if (value === undefined) continue;
    setPath(raw, path, envValue(value, kind));
    fromEnv.set(path.join("."), name);
  }
  return parseConfig(raw, { file, fromEnv }, config);
}

/** Validates an already-read configuration object. */
export function parseConfig<C extends OperatorConfig = OperatorConfig>(
  raw: unknown,
  origin: { file?: string | undefined; fromEnv?: Map<string, string> } = {},
  config: ConfigSchema<C> = RUNTIME_CONFIG as unknown as ConfigSchema<C>,
): C {
  const result = config.schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".") || "(top level)";
    const env = [...(origin.fromEnv ?? new Map<string, string>())].find(
      ([p]) => path === p || path.startsWith(`${p}.`),
    );
    const source = env ? ` (from ${env[1]})` : origin.file ? ` (in ${origin.file})` : "";
    return `  ${path}${source}: ${issue.message}`;
  });
  throw new ConfigError(`invalid operator configuration:\n${lines.join("\n")}`);
}
