/**
 * The materializer's configuration: defaults, then environment variables (the same DARWIN_CASSANDRA_* and
 * DARWIN_KAFKA_BROKERS the operator reads). Every error names the variable.
 */
import { z } from "zod";
import { featureStoreConfig } from "../../controllers/feature-group/config.ts";
import { DNS_LABEL } from "../../crds/src/index.ts";

export const materializerConfig = z
  .strictObject({
    host: z.string().default("0.0.0.0").describe("Address of /metrics, /healthz and /readyz."),
    port: z.number().int().min(0).max(65535).default(8081).describe("Port of the probes (0 picks one)."),
    namespace: z
      .string()
      .regex(DNS_LABEL, "must be a namespace name (RFC 1123 label)")
      .optional()
      .describe("Materialize only this namespace's groups; every namespace when unset."),
    groupId: z
      .string()
      .min(1)
      .default("darwin-materializer")
      .describe("Kafka consumer group of all replicas."),
    brokers: z
      .array(z.string().min(1))
      .min(1)
      .default(["127.0.0.1:9092"])
      .describe("Kafka bootstrap brokers."),
    maxBatch: z.number().int().min(1).max(100_000).default(2000).describe("Most messages written per batch."),
    concurrency: z.number().int().min(1).max(4096).default(256).describe("Most Cassandra writes in flight."),
    statusIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(5000)
      .describe("How often lag is measured and FeatureGroup status written."),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    cassandra: featureStoreConfig.unwrap().shape.cassandra,
  })
  .describe("Configuration of the materializer.");

export type MaterializerConfig = z.infer<typeof materializerConfig>;

const list = (v: string) => v.split(",").map((s) => s.trim());
const numberOrText = (raw: string): number | string =>
  raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;

const ENV: ReadonlyArray<[string, (raw: string, into: Record<string, unknown>) => void]> = [
  ["DARWIN_MATERIALIZER_HOST", (v, c) => Object.assign(c, { host: v })],
  ["DARWIN_MATERIALIZER_PORT", (v, c) => Object.assign(c, { port: numberOrText(v) })],
  ["DARWIN_MATERIALIZER_NAMESPACE", (v, c) => Object.assign(c, { namespace: v })],
  ["DARWIN_MATERIALIZER_GROUP", (v, c) => Object.assign(c, { groupId: v })],
  ["DARWIN_MATERIALIZER_MAX_BATCH", (v, c) => Object.assign(c, { maxBatch: numberOrText(v) })],
  ["DARWIN_MATERIALIZER_CONCURRENCY", (v, c) => Object.assign(c, { concurrency: numberOrText(v) })],
  [
    "DARWIN_MATERIALIZER_STATUS_INTERVAL_MS",
    (v, c) => Object.assign(c, { statusIntervalMs: numberOrText(v) }),
  ],
  ["DARWIN_KAFKA_BROKERS", (v, c) => Object.assign(c, { brokers: list(v) })],
  ["DARWIN_LOG_LEVEL", (v, c) => Object.assign(c, { logLevel: v })],
  ["DARWIN_CASSANDRA_CONTACT", (v, c) => cassandra(c, { contactPoints: list(v) })],
  ["DARWIN_CASSANDRA_DATACENTER", (v, c) => cassandra(c, { localDataCenter: v })],
];

function cassandra(config: Record<string, unknown>, values: Record<string, unknown>): void {
  config.cassandra = { ...(config.cassandra as object | undefined), ...values };
}

/** The configuration from the environment; throws naming each bad variable. */
export function loadMaterializerConfig(
  env: Record<string, string | undefined> = process.env,
): MaterializerConfig {
  const raw: Record<string, unknown> = {};
  const used: string[] = [];
  for (const [name, set] of ENV) {
    const value = env[name];
    if (value === undefined) continue;
    set(value, raw);
    used.push(name);
  }
  const result = materializerConfig.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(
    `invalid materializer configuration (from ${used.join(", ") || "defaults"}):\n${lines.join("\n")}`,
  );
}
