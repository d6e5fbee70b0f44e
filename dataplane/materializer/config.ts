/**
 * The materializer's configuration: defaults, then environment variables (the same DARWIN_CASSANDRA_* and
 * DARWIN_KAFKA_BROKERS the operator reads, the same DARWIN_OFFLINE_STORE_URI and DARWIN_S3_* as the
 * feature server). Every error names the variable.
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
    offlineStore: offlineStoreConfig
      .extend({
        flushRows: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(50_000)
          .describe("Buffered rows that make the materializer write its offline files and commit."),
        flushMs: z
          .number()
          .int()
          .min(100)
          .default(30_000)
          .describe(
            "Longest a row waits in the buffer before the files are written and its offset committed.",
          ),
      })
      .default({ s3: { region: "us-east-1", forcePathStyle: true }, flushRows: 50_000, flushMs: 30_000 })
      .describe("The offline store every materialized row also goes to (when its uri is set)."),
  })
  .describe("Configuration of the materializer.");

export type MaterializerConfig = z.infer<typeof materializerConfig>;

const ENV: EnvTable = [
  ["DARWIN_MATERIALIZER_HOST", text("host")],
  ["DARWIN_MATERIALIZER_PORT", number("port")],
  ["DARWIN_MATERIALIZER_NAMESPACE", text("namespace")],
  ["DARWIN_MATERIALIZER_GROUP", text("groupId")],
  ["DARWIN_MATERIALIZER_MAX_BATCH", number("maxBatch")],
  ["DARWIN_MATERIALIZER_CONCURRENCY", number("concurrency")],
  ["DARWIN_MATERIALIZER_STATUS_INTERVAL_MS", number("statusIntervalMs")],
  ["DARWIN_MATERIALIZER_OFFLINE_FLUSH_ROWS", number("offlineStore.flushRows")],
  ["DARWIN_MATERIALIZER_OFFLINE_FLUSH_MS", number("offlineStore.flushMs")],
  ["DARWIN_KAFKA_BROKERS", commaList("brokers")],
  ["DARWIN_LOG_LEVEL", text("logLevel")],
  ...CASSANDRA_ENV,
  ...OFFLINE_STORE_ENV,
];

/** The configuration from the environment; throws naming each bad variable. */
export function loadMaterializerConfig(
  env: Record<string, string | undefined> = process.env,
): MaterializerConfig {
  return loadEnvConfig(materializerConfig, ENV, "materializer", env);
}
