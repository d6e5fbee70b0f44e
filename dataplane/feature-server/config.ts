/**
 * The feature server's configuration: defaults, then environment variables (the same DARWIN_CASSANDRA_*
 * the operator reads, so one set of endpoints configures both). Every error names the variable.
 */
import { z } from "zod";
import { featureStoreConfig } from "../../controllers/feature-group/config.ts";
import { DNS_LABEL } from "../../crds/src/index.ts";
import { s3Config } from "../offline-store/s3.ts";

export const featureServerConfig = z
  .strictObject({
    host: z.string().default("0.0.0.0").describe("Address to listen on."),
    port: z.number().int().min(0).max(65535).default(8080).describe("Port (0 picks a free one)."),
    namespace: z
      .string()
      .regex(DNS_LABEL, "must be a namespace name (RFC 1123 label)")
      .optional()
      .describe("Serve only this namespace's groups; all namespaces when unset."),
    maxKeys: z.number().int().min(1).max(100_000).default(1000).describe("Most keys one request may read."),
    readPattern: z
      .enum(["per-key", "in"])
      // The benchmark's bare-driver runs read 100 keys several times faster with one IN than per key.
      .default("in")
      .describe(
        "per-key: one prepared read per key, concurrently; in: one IN query per request (one-key groups).",
      ),
    authCacheSeconds: z
      .number()
      .min(0)
      .default(10)
      .describe("How long token reviews and access decisions are reused."),
    kafkaBrokers: z
      .array(z.string().min(1))
      .optional()
      .describe("Kafka bootstrap brokers for pushes; without them the push routes answer 503."),
    maxPushRows: z.number().int().min(1).max(100_000).default(5000).describe("Most rows one push may carry."),
    pushTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(10_000)
      .describe("How long a push waits for Kafka's acknowledgement before answering 503."),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    cassandra: featureStoreConfig.unwrap().shape.cassandra,
    offlineStore: z
      .strictObject({
        uri: z
          .string()
          .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, "must be an s3://bucket/prefix URI")
          .optional()
          .describe("The offline store (s3://bucket/prefix); historical-features is served only when set."),
        s3: s3Config.default({ region: "us-east-1", forcePathStyle: true }),
      })
      .default({ s3: { region: "us-east-1", forcePathStyle: true } })
      .describe("The offline store the training sets are read from."),
  })
  .describe("Configuration of the feature server.");

export type FeatureServerConfig = z.infer<typeof featureServerConfig>;

const ENV: ReadonlyArray<[string, (raw: string, into: Record<string, unknown>) => void]> = [
  ["DARWIN_FEATURE_SERVER_HOST", (v, c) => Object.assign(c, { host: v })],
  ["DARWIN_FEATURE_SERVER_PORT", (v, c) => Object.assign(c, { port: numberOrText(v) })],
  ["DARWIN_FEATURE_SERVER_NAMESPACE", (v, c) => Object.assign(c, { namespace: v })],
  ["DARWIN_FEATURE_SERVER_MAX_KEYS", (v, c) => Object.assign(c, { maxKeys: numberOrText(v) })],
  ["DARWIN_FEATURE_SERVER_READ_PATTERN", (v, c) => Object.assign(c, { readPattern: v })],
  ["DARWIN_KAFKA_BROKERS", (v, c) => Object.assign(c, { kafkaBrokers: v.split(",").map((s) => s.trim()) })],
  ["DARWIN_FEATURE_SERVER_MAX_PUSH_ROWS", (v, c) => Object.assign(c, { maxPushRows: numberOrText(v) })],
  ["DARWIN_FEATURE_SERVER_PUSH_TIMEOUT_MS", (v, c) => Object.assign(c, { pushTimeoutMs: numberOrText(v) })],
  ["DARWIN_LOG_LEVEL", (v, c) => Object.assign(c, { logLevel: v })],
  ["DARWIN_CASSANDRA_CONTACT", (v, c) => cassandra(c, { contactPoints: v.split(",").map((s) => s.trim()) })],
  ["DARWIN_CASSANDRA_DATACENTER", (v, c) => cassandra(c, { localDataCenter: v })],
  ["DARWIN_OFFLINE_STORE_URI", (v, c) => offline(c, { uri: v })],
  ["DARWIN_S3_ENDPOINT", (v, c) => offline(c, { s3: { endpoint: v } })],
  ["DARWIN_S3_REGION", (v, c) => offline(c, { s3: { region: v } })],
  ["DARWIN_S3_ACCESS_KEY_ID", (v, c) => offline(c, { s3: { accessKeyId: v } })],
  ["DARWIN_S3_SECRET_ACCESS_KEY", (v, c) => offline(c, { s3: { secretAccessKey: v } })],
];

function numberOrText(raw: string): number | string {
  return raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

function offline(config: Record<string, unknown>, values: { uri?: string; s3?: object }): void {
  const current = (config.offlineStore ?? {}) as { uri?: string; s3?: object };
  config.offlineStore = { ...current, ...values, s3: { ...current.s3, ...values.s3 } };
}

function cassandra(config: Record<string, unknown>, values: Record<string, unknown>): void {
  config.cassandra = { ...(config.cassandra as object | undefined), ...values };
}

/** The configuration from the environment; throws naming each bad variable. */
export function loadFeatureServerConfig(
  env: Record<string, string | undefined> = process.env,
): FeatureServerConfig {
  const raw: Record<string, unknown> = {};
  const used: string[] = [];
  for (const [name, set] of ENV) {
    const value = env[name];
    if (value === undefined) continue;
    set(value, raw);
    used.push(name);
  }
  const result = featureServerConfig.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(
    `invalid feature server configuration (from ${used.join(", ") || "defaults"}):\n${lines.join("\n")}`,
  );
}
