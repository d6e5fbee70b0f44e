/**
 * Configuration of a data-plane program from DARWIN_* environment variables: a table maps each variable
 * onto a field of the raw configuration, and the program's zod schema fills the defaults and checks it.
 * Every error names the variables read and the field. The variables that several programs share (the
 * Cassandra and Kafka endpoints, the offline store and its S3) are defined once here, so one set of
 * values configures them all.
 */
import type { z } from "zod";

/** Sets a field of the raw configuration from a variable's text. */
export type EnvSetter = (raw: string, into: Record<string, unknown>) => void;
export type EnvTable = ReadonlyArray<readonly [string, EnvSetter]>;

/** A number when the text is one (the schema then checks its range), else the text (the schema refuses it). */
export const numberOrText = (raw: string): number | string =>
  raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;

const list = (raw: string) => raw.split(",").map((s) => s.trim());

/** Sets `path` (nested objects created or merged) to `value`. */
function setPath(into: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = into;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** The variable sets the field at `path` (dot-separated) to its text, a number, or a comma list. */
export const text =
  (path: string): EnvSetter =>
  (raw, into) =>
    setPath(into, path.split("."), raw);
export const number =
  (path: string): EnvSetter =>
  (raw, into) =>
    setPath(into, path.split("."), numberOrText(raw));
export const commaList =
  (path: string): EnvSetter =>
  (raw, into) =>
    setPath(into, path.split("."), list(raw));

/** DARWIN_CASSANDRA_*: the online store, as `cassandra`. */
export const CASSANDRA_ENV: EnvTable = [
  ["DARWIN_CASSANDRA_CONTACT", commaList("cassandra.contactPoints")],
  ["DARWIN_CASSANDRA_DATACENTER", text("cassandra.localDataCenter")],
];

/** DARWIN_OFFLINE_STORE_URI and DARWIN_S3_*: the offline store, as `offlineStore`. */
export const OFFLINE_STORE_ENV: EnvTable = [
  ["DARWIN_OFFLINE_STORE_URI", text("offlineStore.uri")],
  ["DARWIN_S3_ENDPOINT", text("offlineStore.s3.endpoint")],
  ["DARWIN_S3_REGION", text("offlineStore.s3.region")],
  ["DARWIN_S3_ACCESS_KEY_ID", text("offlineStore.s3.accessKeyId")],
  ["DARWIN_S3_SECRET_ACCESS_KEY", text("offlineStore.s3.secretAccessKey")],
];

/** The configuration from the environment; throws naming the variables read and each bad field. */
export function loadEnvConfig<S extends z.ZodType>(
  schema: S,
  table: EnvTable,
  what: string,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const raw: Record<string, unknown> = {};
  const used: string[] = [];
  for (const [name, set] of table) {
    const value = env[name];
    if (value === undefined) continue;
    set(value, raw);
    used.push(name);
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(
    `invalid ${what} configuration (from ${used.join(", ") || "defaults"}):\n${lines.join("\n")}`,
  );
}
