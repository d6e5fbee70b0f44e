/**
 * hermes features load and training-set: bulk loads of Parquet files into a feature group (the populator,
 * run here or as a Kubernetes Job's command) and point-in-time-correct training sets from the feature
 * server's historical-features route.
 *
 * `load` talks to the stores itself: Cassandra at $DARWIN_CASSANDRA_CONTACT ($DARWIN_CASSANDRA_DATACENTER),
 * S3 at $DARWIN_S3_ENDPOINT (with DARWIN_S3_REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY), and the offline
 * store at $DARWIN_OFFLINE_STORE_URI (or --offline-store); it reads the FeatureGroup from Kubernetes.
 * `training-set` asks the feature server (found as `features fetch` finds it) with the same token.
 */
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { featureStoreConfig } from "../controllers/feature-group/config.ts";
import { RequestError } from "../dataplane/feature-server/groups.ts";
import type { S3Config } from "../dataplane/offline-store/s3.ts";
import { progressLine } from "../dataplane/populator/progress.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { featureServerURL } from "./features-fetch.ts";
import { type Kind, listResources } from "./kube.ts";
import type { Io } from "./program.ts";
import { UsageError } from "./usage-error.ts";

export const FEATURE_GROUPS: Kind = { plural: "featuregroups", namespaced: true };

const S3_OR_PATH = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+|[^:]+)$/;

function fileArg(flag: string) {
  return (value: string) => {
    if (!S3_OR_PATH.test(value))
      throw new InvalidArgumentError(
        `${flag} must be a local path or s3://bucket/key (e.g. s3://data/users.parquet).`,
      );
    return value;
  };
}

function versionArg(value: string) {
  if (!/^[1-9][0-9]{0,5}$/.test(value))
    throw new InvalidArgumentError("--version must be a whole number from 1.");
  return Number(value);
}

export interface FeatureCommandContext {
  io: Io;
  kube: () => KubeClient;
  defaultNamespace: () => string;
  /** hermes configure's ServeEnvironment, whose featureServerURL names the feature server. */
  environment: () => string | undefined;
  /** The bearer token for the feature server: the kubeconfig user's, else hermes's. */
  token: () => string | undefined;
  example: (c: Command, text: string) => Command;
}

/** The `features` command group (created here unless another module made it first). */
function featuresCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "features") ??
    program.command("features").description("Feature groups: load data, fetch features, build training sets")
  );
}

export function addFeatureCommands(program: Command, context: FeatureCommandContext): void {
  const { io, example } = context;
  const features = featuresCommand(program);

  example(
    features
      .command("load")
      .description(
        "Load a Parquet file (local or s3://) into a feature group's online table and the offline store; every row is written with its own event time",
      )
      .argument("<group>", "feature group (its Kubernetes name, or with '_' as the SDK names it)")
      .requiredOption("--file <path|s3://bucket/key>", "the Parquet file", fileArg("--file"))
      .option(
        "-n, --namespace <name>",
        "namespace (tenant) of the group (default: hermes configure's, else default)",
      )
      .option("--version <n>", "group version to load (default: the group's spec.version)", versionArg)
      .option("--event-time-column <name>", "the file's event time column", "event_time")
      .option("--offline-store <s3://bucket/prefix>", "offline store (default: $DARWIN_OFFLINE_STORE_URI)")
      .option("--no-offline-store", "load the online table only"),
    "hermes features load user_features --file s3://datasets/user_features.parquet -n team-a",
  ).action(async (group: string, opts) => {
    // The loader's drivers (Cassandra, S3, DuckDB) are imported by this command only, not by every hermes run.
    const [{ s3ConfigFromEnv }, { LoadRejected }, { populate }] = await Promise.all([
      import("../dataplane/offline-store/s3.ts"),
      import("../dataplane/populator/load.ts"),
      import("../dataplane/populator/run.ts"),
    ]);
    const env = io.env;
    const namespace: string = opts.namespace ?? context.defaultNamespace();
    const cassandra = featureStoreConfig.unwrap().shape.cassandra.safeParse({
      ...(env.DARWIN_CASSANDRA_CONTACT && { contactPoints: env.DARWIN_CASSANDRA_CONTACT.split(",") }),
      ...(env.DARWIN_CASSANDRA_DATACENTER && { localDataCenter: env.DARWIN_CASSANDRA_DATACENTER }),
    });
    if (!cassandra.success)
      throw new UsageError(
        `DARWIN_CASSANDRA_CONTACT / DARWIN_CASSANDRA_DATACENTER: ${cassandra.error.issues[0]?.message}`,
      );
    const offlineStoreUri: string | undefined =
      opts.offlineStore === false ? undefined : (opts.offlineStore ?? env.DARWIN_OFFLINE_STORE_URI);
    let s3: S3Config;
    try {
      s3 = s3ConfigFromEnv(env);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let last = 0;
    try {
      const result = await populate({
        namespace,
        featureGroups: await listResources(context.kube(), FEATURE_GROUPS, namespace),
        group,
        ...(opts.version && { version: opts.version }),
        file: opts.file,
        eventTimeColumn: opts.eventTimeColumn,
        cassandra: cassandra.data,
        s3,
        ...(offlineStoreUri && { offlineStoreUri }),
        onProgress: (p) => {
          // One line a second (and the last), whether or not stderr is a terminal: Job logs read the same.
          if (p.rows < p.total && p.elapsedMs - last < 1000) return;
          last = p.elapsedMs;
          io.stderr.write(`${progressLine(p)}\n`);
        },
      });
      io.stdout.write(
        `loaded ${result.rows} rows into ${result.keyspace}.${result.table} (version ${result.version}) in ${(result.elapsedMs / 1000).toFixed(1)}s` +
          `${result.offlineFiles.length > 0 ? `; offline store: ${result.offlineFiles.length} files` : ""}\n`,
      );
    } catch (err) {
      if (err instanceof LoadRejected) throw new UsageError(err.message);
      if (err instanceof RequestError && err.statusCode < 500)
        throw new UsageError(`<group>: ${err.message}`);
      throw err;
    }
  });

  example(
    features
      .command("training-set")
      .description(
        "Build a point-in-time-correct training set: for each entity row, each feature's latest value at or before its timestamp and within the TTL (from the feature server)",
      )
      .requiredOption("--features <list>", "comma-separated group:feature references", (v: string) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      )
      .requiredOption(
        "--entities <file.json|s3://bucket/key.parquet>",
        "entity rows: a JSON array of {keys..., timestamp}, or a Parquet file on S3",
        fileArg("--entities"),
      )
      .option("--output <s3://bucket/key.parquet>", "write the training set to S3 instead of printing JSON")
      .option("--timestamp-column <name>", "the entity rows' timestamp column", "event_timestamp")
      .option("--full-feature-names", "name columns group__feature")
      .option(
        "-n, --namespace <name>",
        "namespace (tenant) of the groups (default: hermes configure's, else default)",
      )
      .option(
        "--feature-server <url>",
        "feature server URL (default: $HERMES_FEATURE_SERVER_URL, else the environment's featureServerURL)",
      )
      .option("--env <name>", "ServeEnvironment whose featureServerURL to use (default: hermes configure's)"),
    "hermes features training-set --features user_features:age,user_features:tenure --entities rows.json -n team-a",
  ).action(async (opts) => {
    const server = await featureServerURL(opts, io, context);
    const namespace: string = opts.namespace ?? context.defaultNamespace();
    const body: Record<string, unknown> = {
      features: opts.features,
      timestamp_column: opts.timestampColumn,
      full_feature_names: Boolean(opts.fullFeatureNames),
      ...(opts.output && { output: opts.output }),
    };
    if (String(opts.entities).startsWith("s3://")) body.entity_source = opts.entities;
    else {
      try {
        body.entity_rows = JSON.parse(readFileSync(opts.entities, "utf8"));
      } catch (err) {
        throw new UsageError(`--entities ${opts.entities}: ${(err as Error).message}`);
      }
    }
    const token = context.token();
    const answer = await fetch(
      `${server.replace(/\/+$/, "")}/namespaces/${namespace}/feature-store/v1/historical-features`,
      {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      },
    );
    const text = await answer.text();
    if (!answer.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // not our error shape: show the body as it came
      }
      if (answer.status < 500)
        throw new UsageError(`the feature server refused (${answer.status}): ${message}`);
      throw new Error(`the feature server failed (${answer.status}): ${message}`);
    }
    const result = JSON.parse(text) as { output?: string; row_count: number };
    if (result.output) io.stdout.write(`wrote ${result.row_count} rows to ${result.output}\n`);
    else io.stdout.write(`${text}\n`);
  });
}
