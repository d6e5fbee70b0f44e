/**
 * The operator's configuration: one typed, validated object, from defaults, then a YAML or JSON file
 * (--config or $DARWIN_OPERATOR_CONFIG), then environment variables. Unknown keys are errors (a typo must
 * not silently fall back to a default), and every error names the field and where its value came from.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DNS_LABEL } from "../crds/src/index.ts";
import { isPlainObject, type JsonObject } from "./json.ts";

const seconds = (what: string) => z.number().positive().describe(`${what}, in seconds (fractions allowed).`);
const port = (what: string) => z.number().int().min(0).max(65535).describe(`${what} (0 picks a free port).`);

const price = z
  .strictObject({
    cpuCoreHour: z.number().min(0).describe("Price of one CPU core for one hour."),
    memoryGiBHour: z.number().min(0).describe("Price of one GiB of memory for one hour."),
  })
  .describe("Hourly prices of one capacity class.");

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
    webhook: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe("Serve the admission webhooks (on every replica, leader or not)."),
        host: z.string().default("0.0.0.0"),
        port: port("HTTPS port of the admission webhooks").default(9443),
        certificates: z
          .strictObject({
            mode: z
              .enum(["self-managed", "cert-manager"])
              .default("self-managed")
              .describe(
                "self-managed: the operator keeps its own CA and serving certificate in a Secret; cert-manager: read the mounted Secret.",
              ),
            namespace: z
              .string()
              .regex(DNS_LABEL)
              .default("darwin-system")
              .describe("Namespace of the webhook Service and Secret."),
            serviceName: z
              .string()
              .regex(DNS_LABEL)
              .default("darwin-webhook")
              .describe("Service the apiserver calls."),
            secretName: z
              .string()
              .min(1)
              .optional()
              .describe("Secret of the self-managed certificates (default <serviceName>-tls)."),
            directory: z
              .string()
              .min(1)
              .default("/tmp/k8s-webhook-server/serving-certs")
              .describe("cert-manager mode: where the Secret with tls.crt and tls.key is mounted."),
          })
          .prefault({}),
        configuration: z
          .strictObject({
            manage: z
              .enum(["none", "inject-ca", "apply"])
              .default("inject-ca")
              .describe(
                "none: leave the ValidatingWebhookConfiguration alone; inject-ca: keep its caBundle current; apply: apply all of it.",
              ),
            name: z
              .string()
              .min(1)
              .default("darwin-validating-webhook")
              .describe("Name of the ValidatingWebhookConfiguration."),
            url: z
              .url({ protocol: /^https$/ })
              .optional()
              .describe(
                "apply mode: the apiserver calls this URL (e.g. https://127.0.0.1:9443 on the local testbed) instead of the Service.",
              ),
          })
          .prefault({}),
      })
      .prefault({}),
    currency: z.string().length(3).default("USD").describe("ISO 4217 code of the prices."),
    capacityClasses: z
      .strictObject({ spot: price, "on-demand": price })
      .default({
        spot: { cpuCoreHour: 0.012, memoryGiBHour: 0.0016 },
        "on-demand": { cpuCoreHour: 0.04, memoryGiBHour: 0.005 },
      })
      .describe("Prices per capacity class, for the cost shown on clusters and serves."),
    featureStore: z
      .strictObject({
        cassandra: z
          .strictObject({
            contactPoints: z
              .array(z.string().min(1))
              .min(1)
              .default(["127.0.0.1:9042"])
              .describe("Cassandra contact points, host:port."),
            localDataCenter: z
              .string()
              .min(1)
              .default("datacenter1")
              .describe("Data center the driver prefers (and the one SimpleStrategy ignores)."),
            replication: z
              .union([
                z.strictObject({
                  class: z.literal("SimpleStrategy"),
                  replicationFactor: z.number().int().min(1).default(1),
                }),
                z.strictObject({
                  class: z.literal("NetworkTopologyStrategy"),
                  dataCenters: z
                    .record(z.string().min(1), z.number().int().min(1))
                    .refine((dcs) => Object.keys(dcs).length > 0, "name at least one data center")
                    .describe("Replicas per data center, e.g. {dc1: 3, dc2: 3}."),
                }),
              ])
              .default({ class: "SimpleStrategy", replicationFactor: 1 })
              .describe("Replication of the keyspaces the operator creates (one per namespace)."),
            username: z.string().optional().describe("Cassandra user, when authentication is on."),
            password: z.string().optional().describe("Password of the Cassandra user."),
          })
          .prefault({}),
        kafka: z
          .strictObject({
            brokers: z
              .array(z.string().min(1))
              .min(1)
              .default(["127.0.0.1:9092"])
              .describe("Kafka bootstrap brokers, host:port."),
            replicationFactor: z
              .number()
              .int()
              .min(1)
              .default(1)
              .describe("Replication factor of the feature topics."),
          })
          .prefault({}),
        mysqlUrl: z
          .url({ protocol: /^mysql$/ })
          .default("mysql://root@127.0.0.1:3306/darwin")
          .describe("MySQL/MariaDB database holding the feature groups' schema history."),
      })
      .prefault({})
      .describe("Stores of the feature store: Cassandra (values), Kafka (streams), MySQL (schema history)."),
  })
  .describe("Configuration of the Darwin operator.");

export type OperatorConfig = z.infer<typeof operatorConfig>;

/** Configuration that could not be used; the message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type EnvKind = "string" | "number" | "boolean" | "list";

/** Environment variables and the config fields they set. */
export const ENV_VARS: ReadonlyArray<{ name: string; path: string[]; kind: EnvKind }> = [
  { name: "DARWIN_NAMESPACES", path: ["namespaces"], kind: "list" },
  { name: "DARWIN_WORKERS", path: ["workers"], kind: "number" },
  { name: "DARWIN_RESYNC_PERIOD_SECONDS", path: ["resyncPeriodSeconds"], kind: "number" },
  { name: "DARWIN_LOG_LEVEL", path: ["logLevel"], kind: "string" },
  { name: "DARWIN_LEADER_ELECTION", path: ["leaderElection", "enabled"], kind: "boolean" },
  { name: "DARWIN_LEADER_ELECTION_NAMESPACE", path: ["leaderElection", "namespace"], kind: "string" },
  { name: "DARWIN_HTTP_PORT", path: ["http", "port"], kind: "number" },
  { name: "DARWIN_WEBHOOK_ENABLED", path: ["webhook", "enabled"], kind: "boolean" },
  { name: "DARWIN_WEBHOOK_PORT", path: ["webhook", "port"], kind: "number" },
  {
    name: "DARWIN_CASSANDRA_CONTACT",
    path: ["featureStore", "cassandra", "contactPoints"],
    kind: "list",
  },
  {
    name: "DARWIN_CASSANDRA_DATACENTER",
    path: ["featureStore", "cassandra", "localDataCenter"],
    kind: "string",
  },
  { name: "DARWIN_KAFKA_BROKERS", path: ["featureStore", "kafka", "brokers"], kind: "list" },
  { name: "DARWIN_MYSQL_URL", path: ["featureStore", "mysqlUrl"], kind: "string" },
];

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
export function loadConfig(sources: ConfigSources = {}): OperatorConfig {
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
  for (const { name, path, kind } of ENV_VARS) {
    const value = env[name];
    if (value === undefined) continue;
    setPath(raw, path, envValue(value, kind));
    fromEnv.set(path.join("."), name);
  }
  return parseConfig(raw, { file, fromEnv });
}

/** Validates an already-read configuration object. */
export function parseConfig(
  raw: unknown,
  origin: { file?: string | undefined; fromEnv?: Map<string, string> } = {},
): OperatorConfig {
  const result = operatorConfig.safeParse(raw);
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
