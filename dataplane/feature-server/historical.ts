/**
 * `POST /feature-store/v1/historical-features`: point-in-time-correct training sets from the offline
 * store (dataplane/offline-store/training-set.ts). The entity rows come in the body (JSON) or as a
 * Parquet file on S3; the answer is the rows, or a Parquet file written to S3. Same tenant, auth and error
 * shape as the online routes: a token allowed to `get` the FeatureGroup (every group named, or the
 * namespace's groups when several are).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { KubeAuth, Service } from "../../operator/http/index.ts";
import { downloadObject, parseS3Uri, type S3Location, s3Uri, uploadFile } from "../offline-store/s3.ts";
import {
  buildTrainingSet,
  type EntitySource,
  entityColumns,
  entityRowProblems,
  type TrainingSetGroup,
  TrainingSetInputError,
} from "../offline-store/training-set.ts";
import { type GroupRegistry, RequestError } from "./groups.ts";

const s3UriField = (what: string) =>
  z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+\.parquet$/, "must be an s3://bucket/key.parquet URI")
    .describe(what);

export const HistoricalFeaturesRequest = z
  .strictObject({
    features: z
      .array(z.string().min(3).max(507).describe("A feature reference, group:feature (user_features:age)."))
      .min(1)
      .max(500)
      .describe("Features to join, as group:feature; the groups' current versions are read."),
    entity_rows: z
      .array(
        z
          .record(z.string().min(1).max(48), z.unknown())
          .describe(
            "The entity keys of the requested groups and the timestamp, e.g. {user_id: 1, event_timestamp: ...}.",
          ),
      )
      .min(1)
      .max(100_000)
      .optional()
      .describe("Entity rows as JSON (or entity_source)."),
    entity_source: s3UriField(
      "A Parquet file of entity rows on the store's S3 (or entity_rows); every column is kept.",
    ).optional(),
    timestamp_column: z
      .string()
      .min(1)
      .max(48)
      .default("event_timestamp")
      .describe("The entity rows' timestamp column (RFC 3339 strings in entity_rows)."),
    full_feature_names: z
      .boolean()
      .default(false)
      .describe("Name feature columns group__feature instead of feature."),
    output: s3UriField("Write the training set there as Parquet instead of returning its rows.").optional(),
  })
  .describe("A point-in-time-correct training set request.");
export type HistoricalFeaturesRequest = z.infer<typeof HistoricalFeaturesRequest>;

export const HistoricalFeaturesResponse = z
  .object({
    columns: z.array(z.string()).describe("The entity rows' columns, then one per feature."),
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe("One row per entity row, in request order (absent when written to output)."),
    row_count: z.number().int().describe("Rows in the training set."),
    output: z.string().optional().describe("Where the training set was written."),
  })
  .describe("A training set: each feature's latest value at or before each row's timestamp within the TTL.");

/** What the route needs besides the app's own dependencies. */
export interface HistoricalFeaturesDependencies {
  s3: S3Client;
  /** The offline store's bucket and prefix. */
  root: S3Location;
}

/** Resolves the groups and features of a request; RequestErrors name the field. */
async function plan(
  groups: GroupRegistry,
  namespace: string,
  body: HistoricalFeaturesRequest,
): Promise<TrainingSetGroup[]> {
  const byGroup = new Map<string, string[]>();
  for (const [i, ref] of body.features.entries()) {
    const [group, feature, ...rest] = ref.split(":");
    if (!group || !feature || rest.length > 0) {
      throw new RequestError(
        400,
        "INVALID_REQUEST",
        `features[${i}]: "${ref}" must be group:feature, e.g. user_features:age`,
      );
    }
    byGroup.set(group, [...(byGroup.get(group) ?? []), feature]);
  }
  const planned: TrainingSetGroup[] = [];
  const names = new Set<string>();
  for (const [requested, features] of byGroup) {
    const served = await groups.resolve(namespace, requested, undefined, "any");
    const columns = features.map((name) => {
      const column = served.features.find((f) => f.name === name);
      if (!column) {
        throw new RequestError(
          400,
          "INVALID_REQUEST",
          `features: "${requested}:${name}": the group has no feature ${name} (features: ${served.features.map((f) => f.name).join(", ")})`,
        );
      }
      const as = body.full_feature_names ? `${requested}__${name}` : name;
      if (names.has(as)) {
        throw new RequestError(
          400,
          "INVALID_REQUEST",
          `features: two features would be named ${as}: list it once, or set full_feature_names`,
        );
      }
      names.add(as);
      return { column, as };
    });
    planned.push({
      group: {
        namespace,
        group: served.name,
        version: served.version,
        entities: served.entities,
        features: served.features,
      },
      ttlSeconds: served.ttlSeconds,
      features: columns,
    });
  }
  return planned;
}

export function registerHistoricalFeatures(
  app: Service,
  deps: {
    groups: GroupRegistry;
    auth: KubeAuth;
    historical: HistoricalFeaturesDependencies;
    tenant: (request: FastifyRequest) => string;
    groupName: (request: FastifyRequest, requested: string | undefined) => string | undefined;
    answer: <T>(reply: FastifyReply, work: () => Promise<T>) => Promise<T | FastifyReply>;
    params: Record<string, unknown>;
    prefix: string;
  },
): void {
  const access = deps.auth.require({
    verb: "get",
    group: "darwin.dreamhorizon.org",
    resource: "featuregroups",
    namespace: deps.tenant,
    name: (request) => {
      const groups = new Set(
        ((request.body as HistoricalFeaturesRequest).features ?? []).map((f) => f.split(":")[0]),
      );
      return groups.size === 1 ? deps.groupName(request, [...groups][0]) : undefined;
    },
  });
  app.post(
    `${deps.prefix}/feature-store/v1/historical-features`,
    {
      ...access,
      // Up to 100,000 entity rows of a few keys each.
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        summary: "Historical features: a point-in-time-correct training set",
        description:
          "For each entity row, each feature's latest value with event time at or before the row's timestamp and within the group's TTL, else null; from the offline store (Parquet on S3), joined by DuckDB's ASOF JOIN.",
        tags: ["features"],
        security: [{ bearer: [] }],
        ...deps.params,
        body: HistoricalFeaturesRequest,
        response: { 200: HistoricalFeaturesResponse },
      },
    },
    async (request, reply) =>
      deps.answer(reply, () =>
        historicalFeatures(deps, deps.tenant(request), request.body as HistoricalFeaturesRequest),
      ),
  );
}

async function historicalFeatures(
  deps: { groups: GroupRegistry; historical: HistoricalFeaturesDependencies },
  namespace: string,
  body: HistoricalFeaturesRequest,
): Promise<z.infer<typeof HistoricalFeaturesResponse>> {
  if ((body.entity_rows === undefined) === (body.entity_source === undefined)) {
    throw new RequestError(400, "INVALID_REQUEST", "entity_rows or entity_source: give exactly one of them");
  }
  const groups = await plan(deps.groups, namespace, body);
  const taken = new Set([
    ...wrapInput(() => entityColumns(groups)).map((k) => k.name),
    body.timestamp_column,
  ]);
  for (const { features } of groups) {
    const clash = features.find((f) => taken.has(f.as));
    if (clash) {
      throw new RequestError(
        400,
        "INVALID_REQUEST",
        `features: the column ${clash.as} would be both an entity column and a feature: set full_feature_names, or rename timestamp_column`,
      );
    }
  }
  const { s3 } = deps.historical;
  const dir = await mkdtemp(join(tmpdir(), "darwin-historical-"));
  try {
    let entities: EntitySource;
    if (body.entity_rows) {
      const keys = wrapInput(() => entityColumns(groups));
      const problems = entityRowProblems(body.entity_rows, keys, body.timestamp_column);
      if (problems.length > 0) throw new RequestError(400, "INVALID_REQUEST", problems.join("; "));
      entities = { kind: "rows", rows: body.entity_rows };
    } else {
      const source = parseS3Uri(body.entity_source ?? "") as S3Location;
      const path = join(dir, "entities.parquet");
      try {
        await downloadObject(s3, source, path);
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (err as { name?: string }).name === "NoSuchBucket")
          throw new RequestError(
            400,
            "INVALID_REQUEST",
            `entity_source: ${body.entity_source} does not exist`,
          );
        throw err;
      }
      entities = { kind: "parquet", path };
    }
    const output = body.output ? join(dir, "training-set.parquet") : undefined;
    const set = await wrapInputAsync(body.entity_source ? "entity_source: " : "", () =>
      buildTrainingSet({
        s3,
        root: deps.historical.root,
        groups,
        entities,
        timestampColumn: body.timestamp_column,
        ...(output && { output }),
      }),
    );
    if (output && body.output) {
      const target = parseS3Uri(body.output) as S3Location;
      try {
        await uploadFile(s3, output, target);
      } catch (err) {
        if ((err as { name?: string }).name === "NoSuchBucket")
          throw new RequestError(
            400,
            "INVALID_REQUEST",
            `output: the bucket ${target.bucket} does not exist`,
          );
        throw err;
      }
      return { columns: set.columns, row_count: set.rowCount, output: s3Uri(target) };
    }
    return { columns: set.columns, rows: set.rows ?? [], row_count: set.rowCount };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function wrapInput<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof TrainingSetInputError) throw new RequestError(400, "INVALID_REQUEST", err.message);
    throw err;
  }
}

async function wrapInputAsync<T>(field: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TrainingSetInputError)
      throw new RequestError(400, "INVALID_REQUEST", `${field}${err.message}`);
    throw err;
  }
}
