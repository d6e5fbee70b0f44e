/**
 * Typed endpoints of the testbed's data services, read from the env file that `hack/testbed up data` writes
 * ($DARWIN_RUN/testbed.env) or from process.env when the global setup has copied it there. Each accessor
 * throws a clear error when its service is not up, so a test file only needs the services it uses.
 */
import { requireEnv } from "../support/testbed-env.ts";

export interface CassandraEndpoint {
  /** host:port of the native (CQL) transport */
  contactPoint: string;
  localDataCenter: string;
}

export interface KafkaEndpoint {
  brokers: string[];
}

export interface MysqlEndpoint {
  /** mysql://user:password@host:port/database */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

function port(name: string): number {
  const value = Number(requireEnv(name));
  if (!Number.isInteger(value) || value <= 0 || value > 65535)
    throw new Error(`${name} is not a port: ${value}`);
  return value;
}

export function cassandraEndpoint(): CassandraEndpoint {
  return {
    contactPoint: requireEnv("DARWIN_CASSANDRA_CONTACT"),
    localDataCenter: requireEnv("DARWIN_CASSANDRA_DATACENTER"),
  };
}

export function kafkaEndpoint(): KafkaEndpoint {
  return { brokers: requireEnv("DARWIN_KAFKA_BROKERS").split(",") };
}

export function mysqlEndpoint(): MysqlEndpoint {
  return {
    url: requireEnv("DARWIN_MYSQL_URL"),
    host: requireEnv("DARWIN_MYSQL_HOST"),
    port: port("DARWIN_MYSQL_PORT"),
    user: requireEnv("DARWIN_MYSQL_USER"),
    password: requireEnv("DARWIN_MYSQL_PASSWORD"),
    database: requireEnv("DARWIN_MYSQL_DATABASE"),
  };
}

export function s3Endpoint(): S3Endpoint {
  return {
    endpoint: requireEnv("DARWIN_S3_ENDPOINT"),
    region: requireEnv("DARWIN_S3_REGION"),
    accessKeyId: requireEnv("DARWIN_S3_ACCESS_KEY_ID"),
    secretAccessKey: requireEnv("DARWIN_S3_SECRET_ACCESS_KEY"),
  };
}

export const mlflowUrl = (): string => requireEnv("DARWIN_MLFLOW_URL");
export const rayDashboardUrl = (): string => requireEnv("DARWIN_RAY_DASHBOARD");
