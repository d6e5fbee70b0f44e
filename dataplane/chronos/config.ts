/**
 * Configuration of the Chronos service, its processor and the catalog, from environment variables, parsed
 * with zod so that a bad value stops the process at start with the variable named.
 */
import { z } from "zod";
import { DNS_LABEL } from "../../crds/src/index.ts";

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().min(1);

export const dataplaneEnv = z.object({
  DARWIN_MYSQL_URL: z.string().regex(/^mysql:\/\//, "must be mysql://user:password@host:port/database"),
  DARWIN_KAFKA_BROKERS: z.string().min(1).describe("host:port[,host:port...]").optional(),
  DARWIN_CHRONOS_TOPIC: z.string().min(1).max(200).default("darwin.chronos.events"),
  DARWIN_CHRONOS_PARTITIONS: positive.default(3),
  DARWIN_CHRONOS_HOST: z.string().default("0.0.0.0"),
  DARWIN_CHRONOS_PORT: port.default(8080),
  DARWIN_CHRONOS_MAX_BATCH: positive.max(10_000).default(500),
  DARWIN_CHRONOS_SEND_TIMEOUT_MS: positive.default(5_000),
  DARWIN_CHRONOS_GROUP: z.string().min(1).default("darwin-chronos-processor"),
  DARWIN_CHRONOS_SYSTEM_NAMESPACE: z.string().min(1).default("darwin-system"),
  DARWIN_CHRONOS_STATUS_INTERVAL_MS: positive.default(2_000),
  DARWIN_CATALOG_HOST: z.string().default("0.0.0.0"),
  DARWIN_CATALOG_PORT: port.default(8080),
  DARWIN_MLFLOW_URL: z
    .url("must be MLflow's tracking URL, e.g. http://mlflow:5000")
    .optional()
    .describe("The catalog registers this MLflow's models (none without it)."),
  DARWIN_CATALOG_MLFLOW_NAMESPACE: z
    .string()
    .max(63)
    .regex(DNS_LABEL, "must be a namespace name")
    .optional()
    .describe(
      "Namespace of MLflow models without a darwin.namespace tag; such models are left out without it.",
    ),
  DARWIN_CATALOG_MLFLOW_SYNC_SECONDS: positive.default(30),
  DARWIN_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});
export type DataplaneEnv = z.infer<typeof dataplaneEnv>;

/** Parses the environment; exits with every bad variable named. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): DataplaneEnv {
  const parsed = dataplaneEnv.safeParse(env);
  if (parsed.success) return parsed.data;
  process.stderr.write(`invalid configuration:\n${z.prettifyError(parsed.error)}\n`);
  process.exit(2);
}

export function kafkaBrokers(env: DataplaneEnv): string[] {
  if (!env.DARWIN_KAFKA_BROKERS) {
    process.stderr.write("invalid configuration: DARWIN_KAFKA_BROKERS is required (host:port of Kafka)\n");
    process.exit(2);
  }
  return env.DARWIN_KAFKA_BROKERS.split(",").map((b) => b.trim());
}
