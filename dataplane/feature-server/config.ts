/**
 * The feature server's configuration: defaults, then environment variables (the same DARWIN_CASSANDRA_*
 * the operator reads, so one set of endpoints configures both). Every error names the variable.
 */
import { z } from "zod";
import { featureStoreConfig } from "../../controllers/feature-group/config.ts";
import { DNS_LABEL } from "../../crds/src/index.ts";
import { offlineStoreConfig } from "../offline-store/s3.ts";
import {
  CASSANDRA_ENV,
  commaList,
  type EnvTable,
  loadEnvConfig,
  number,
  OFFLINE_STORE_ENV,
  text,
} from "../shared/env-config.ts";

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
    offlineStore: offlineStoreConfig
      .default({ s3: { region: "us-east-1", forcePathStyle: true } })
      .describe(
        "The offline store the training sets are read from; historical-features is served only with its uri.",
      ),
  })
  .describe("Configuration of the feature server.");

export type FeatureServerConfig = z.infer<typeof featureServerConfig>;

const ENV: EnvTable = [
  ["DARWIN_FEATURE_SERVER_HOST", text("host")],
  ["DARWIN_FEATURE_SERVER_PORT", number("port")],
  ["DARWIN_FEATURE_SERVER_NAMESPACE", text("namespace")],
  ["DARWIN_FEATURE_SERVER_MAX_KEYS", number("maxKeys")],
  ["DARWIN_FEATURE_SERVER_READ_PATTERN", text("readPattern")],
  ["DARWIN_KAFKA_BROKERS", commaList("kafkaBrokers")],
  ["DARWIN_FEATURE_SERVER_MAX_PUSH_ROWS", number("maxPushRows")],
  ["DARWIN_FEATURE_SERVER_PUSH_TIMEOUT_MS", number("pushTimeoutMs")],
  ["DARWIN_LOG_LEVEL", text("logLevel")],
  ...CASSANDRA_ENV,
  ...OFFLINE_STORE_ENV,
];

/** The configuration from the environment; throws naming each bad variable. */
export function loadFeatureServerConfig(
  env: Record<string, string | undefined> = process.env,
): FeatureServerConfig {
  return loadEnvConfig(featureServerConfig, ENV, "feature server", env);
}
