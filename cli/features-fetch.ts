/**
 * `hermes features fetch`: the seed SDK's fetch_features(feature_group_name, feature_columns,
 * primary_key_names, primary_key_values) from the command line, through the feature server's
 * `POST /feature-store/v1/features:fetch`. Prints a table (one row per key) or the server's JSON answer.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { ServeEnvironment } from "../crds/src/index.ts";
import { FetchFeaturesResponse } from "../dataplane/feature-server/api.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { getResource, SERVE_ENVIRONMENTS } from "./kube.ts";
import type { Io } from "./program.ts";
import { table } from "./table.ts";
import { UsageError } from "./usage-error.ts";

export const FETCH_PATH = "/feature-store/v1/features:fetch";
/** How long hermes waits for the feature server's answer. */
const ANSWER_TIMEOUT_MS = 30_000;

export interface FeaturesFetchDeps {
  kube: () => KubeClient;
  /** The bearer token for the feature server: the kubeconfig user's, else hermes's. */
  bearerToken: () => string | undefined;
  /** hermes configure's environment and namespace. */
  environment: () => string | undefined;
  namespace: () => string | undefined;
}

/** The flag that sets each field of the request, for the server's field errors. */
const FLAG_OF_FIELD: Record<string, string> = {
  feature_group_name: "--feature-group-name",
  feature_columns: "--feature-columns",
  primary_key_names: "--primary-key-names",
  primary_key_values: "--primary-key-values",
  version: "--version",
};

/** The flag a server error is about: its `field`, else the field its code concerns. */
const FLAG_OF_CODE: Record<string, string> = {
  GROUP_NOT_FOUND: "--feature-group-name",
  VERSION_NOT_SERVED: "--version",
  UNKNOWN_COLUMN: "--feature-columns",
  DUPLICATE_COLUMN: "--feature-columns",
  UNKNOWN_KEY: "--primary-key-names",
  DUPLICATE_KEY: "--primary-key-names",
  KEY_MISSING: "--primary-key-names",
  WRONG_KEY_LENGTH: "--primary-key-values",
  WRONG_KEY_TYPE: "--primary-key-values",
  TOO_MANY_KEYS: "--primary-key-values",
};

const ServerError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

function listArg(flag: string, example: string) {
  return (value: string, previous: string[] | undefined) => {
    const items = value.split(",").map((s) => s.trim());
    if (items.some((s) => s === ""))
      throw new InvalidArgumentError(`${flag} takes names separated by commas, e.g. ${example}.`);
    return [...(previous ?? []), ...items];
  };
}

const keyValue = z.union([z.number(), z.string()]);
const KeyRows = z.union([z.array(z.array(keyValue).min(1)).min(1), z.array(keyValue).min(1)]);

/**
 * --primary-key-values: the seed's list of keys as JSON, `[[123], [456]]`; a flat list `[123, 456]` or
 * `123,456` is one key column.
 */
export function parseKeyValues(value: string): Array<Array<number | string>> {
  const text = value.trim();
  let parsed: unknown;
  if (text.startsWith("[") || text.startsWith("{")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidArgumentError(
        `--primary-key-values is not valid JSON (${text}); write a list of keys, e.g. '[[123], [456]]'.`,
      );
    }
  } else {
    parsed = text.split(",").map((s) => (/^-?[0-9]+(\.[0-9]+)?$/.test(s.trim()) ? Number(s) : s.trim()));
  }
  const rows = KeyRows.safeParse(parsed);
  if (!rows.success || (Array.isArray(parsed) && parsed.some((v) => v === ""))) {
    throw new InvalidArgumentError(
      "--primary-key-values must be a list of keys, each a list of numbers or strings, e.g. '[[123], [456]]' (or 123,456 for one key column).",
    );
  }
  return rows.data.map((row) => (Array.isArray(row) ? row : [row]));
}

function versionArg(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value))
    throw new InvalidArgumentError("--version must be a whole number from 1, e.g. 2.");
  return Number(value);
}

/** A value as a table cell: PRESENT values as they are, the others by their status. */
function cell(value: unknown, status: string | undefined): string {
  if (status === "NOT_FOUND") return "<not found>";
  if (status === "OUTSIDE_MAX_AGE") return "<expired>";
  if (value === null || value === undefined) return "null";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function renderFetchTable(answer: FetchFeaturesResponse): string {
  const header = [...answer.primary_key_names, ...answer.feature_columns];
  const rows = answer.rows.map((row) => [
    ...row.primary_key_values.map((v) => cell(v, "PRESENT")),
    ...row.values.map((v, i) => cell(v, row.statuses[i])),
  ]);
  return table(header, rows);
}

/** Adds `fetch` under `hermes features` (made here when no other command has made it yet). */
export function addFeaturesFetch(program: Command, io: Io, deps: FeaturesFetchDeps): void {
  const features =
    program.commands.find((c) => c.name() === "features") ??
    program.command("features").description("The feature store: read feature values");
  features
    .command("fetch")
    .description(
      "Read feature values of keys from the feature server (the seed SDK's fetch_features); one row per key",
    )
    .requiredOption("--feature-group-name <name>", "the FeatureGroup (user_features finds user-features)")
    .requiredOption(
      "--feature-columns <names>",
      "features to read, separated by commas (repeatable)",
      listArg("--feature-columns", "age,tenure"),
    )
    .requiredOption(
      "--primary-key-names <names>",
      "the group's entity keys, in the order of each key's values",
      listArg("--primary-key-names", "user_id"),
    )
    .requiredOption(
      "--primary-key-values <json>",
      "the keys to read, as JSON: [[123], [456]] (or 123,456 for one key column)",
      parseKeyValues,
    )
    .option("--version <n>", "schema version to read (default: the group's current one)", versionArg)
    .option("--space <namespace>", "namespace of the FeatureGroup (default: hermes configure's)")
    .option(
      "--feature-server <url>",
      "feature server URL (default: $HERMES_FEATURE_SERVER_URL, else the environment's featureServerURL)",
    )
    .option("--env <name>", "ServeEnvironment whose featureServerURL to use (default: hermes configure's)")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .addHelpText(
      "after",
      "\nExample:\n  hermes features fetch --feature-group-name user_features --feature-columns age,tenure,activity_score \\\n" +
        "    --primary-key-names user_id --primary-key-values '[[123], [456], [789]]'\n",
    )
    .action(async (opts) => {
      const url = await featureServerURL(opts, io, deps);
      const body = {
        feature_group_name: opts.featureGroupName as string,
        feature_columns: opts.featureColumns as string[],
        primary_key_names: opts.primaryKeyNames as string[],
        primary_key_values: opts.primaryKeyValues as Array<Array<number | string>>,
        ...(opts.version !== undefined && { version: opts.version as number }),
      };
      const namespace: string | undefined = opts.space ?? deps.namespace();
      const token = deps.bearerToken();
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      if (namespace) headers["x-darwin-namespace"] = namespace;
      const endpoint = `${url.replace(/\/$/, "")}${FETCH_PATH}`;
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
        });
      } catch (err) {
        const { cause } = err as { cause?: { code?: string; message?: string } };
        const reason = cause?.code ?? cause?.message ?? (err as Error).message;
        throw new Error(`the feature server at ${url} did not answer (${reason}); check --feature-server`);
      }
      const text = await response.text();
      if (!response.ok) throw serverError(response, text, url);
      const answer = FetchFeaturesResponse.safeParse(JSON.parse(text));
      if (!answer.success)
        throw new Error(
          `the feature server at ${url} gave an answer hermes cannot read: ${text.slice(0, 200)}`,
        );
      io.stdout.write(
        opts.output === "json" ? `${JSON.stringify(answer.data, null, 2)}\n` : renderFetchTable(answer.data),
      );
    });
}

/**
 * The feature server every `hermes features` command that asks one uses: --feature-server, else
 * $HERMES_FEATURE_SERVER_URL, else the featureServerURL of the ServeEnvironment (--env, else hermes
 * configure's).
 */
export async function featureServerURL(
  opts: { featureServer?: string; env?: string },
  io: Pick<Io, "env">,
  deps: Pick<FeaturesFetchDeps, "kube" | "environment">,
): Promise<string> {
  const given = opts.featureServer ?? io.env.HERMES_FEATURE_SERVER_URL;
  if (given !== undefined) {
    const flag = opts.featureServer !== undefined ? "--feature-server" : "HERMES_FEATURE_SERVER_URL";
    if (!URL.canParse(given) || !/^https?:$/.test(new URL(given).protocol))
      throw new UsageError(
        `${flag}: ${JSON.stringify(given)} is not an http(s) URL; e.g. http://feature-server.darwin.svc:8080`,
      );
    return given;
  }
  const environment = opts.env ?? deps.environment();
  const fix =
    "pass --feature-server <url>, export HERMES_FEATURE_SERVER_URL, or set spec.featureServerURL of the ServeEnvironment";
  if (!environment) throw new UsageError(`--feature-server: no feature server given; ${fix}`);
  const live = await getResource(deps.kube(), SERVE_ENVIRONMENTS, undefined, environment);
  if (!live) throw new UsageError(`--env: ServeEnvironment ${environment} does not exist; ${fix}`);
  const url = ServeEnvironment.spec.safeParse(live.spec).data?.featureServerURL;
  if (!url) throw new UsageError(`--feature-server: ServeEnvironment ${environment} names none; ${fix}`);
  return url;
}

/** A refusal of the feature server: a mistake in the command (exit 2) for 4xx, else an error (exit 4). */
function serverError(response: Response, text: string, url: string): Error {
  const parsed = ServerError.safeParse(safeJson(text)).data?.error;
  const detail = parsed ? `${parsed.code}: ${parsed.message}` : `${response.status} ${text.slice(0, 200)}`;
  if (response.status === 401 || response.status === 403) {
    return new UsageError(
      `the feature server refused the token (${detail}); hermes sends the kubeconfig user's token, else hermes configure --token's`,
    );
  }
  if (response.status >= 400 && response.status < 500) {
    const field = parsed?.field?.split(".")[0];
    const flag = (field && FLAG_OF_FIELD[field]) ?? (parsed && FLAG_OF_CODE[parsed.code]);
    return new UsageError(`${flag ? `${flag}: ` : ""}${detail}`);
  }
  const retry = response.headers.get("retry-after");
  return new Error(
    `the feature server at ${url} could not answer (${detail})${retry ? `; try again in ${retry} s` : ""}`,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
