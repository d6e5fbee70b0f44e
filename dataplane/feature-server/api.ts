/**
 * The request and response shapes of the feature server's two read routes, as zod schemas (they become
 * the routes' JSON schemas and the OpenAPI document):
 * - the seed SDK's `fetch_features(feature_group_name, feature_columns, primary_key_names,
 *   primary_key_values)`, row-major: one row per key;
 * - Feast 0.67's `/get-online-features`, column-major: one result per feature name, the entity keys first.
 */
import { z } from "zod";

export const VALUE_STATUSES = ["PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"] as const;

const keyValue = z
  .union([z.number(), z.string()])
  .describe("An entity key value: a number, or a string (string keys, base64 bytes, int64 beyond 2^53).");

const name = (what: string) => z.string().min(1).max(253).describe(what);

export const FetchFeaturesRequest = z
  .strictObject({
    feature_group_name: name("The feature group: its Kubernetes name, or with '_' for '-' (user_features)."),
    feature_columns: z.array(name("A feature of the group.")).min(1).max(500).describe("Features to read."),
    primary_key_names: z
      .array(name("An entity key of the group."))
      .min(1)
      .max(8)
      .describe("The group's entity keys, in the order of each primary_key_values entry."),
    primary_key_values: z
      .array(z.array(keyValue).min(1).max(8).describe("One key: a value per primary_key_names entry."))
      .min(1)
      .describe("The keys to read, e.g. [[123], [456]]."),
    version: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Schema version to read; the group's spec.version when absent."),
  })
  .describe("The seed SDK's fetch_features arguments.");
export type FetchFeaturesRequest = z.infer<typeof FetchFeaturesRequest>;

const jsonValue = z.unknown().describe("The value (null when not PRESENT).");
const status = z.enum(VALUE_STATUSES).describe("PRESENT, NOT_FOUND or OUTSIDE_MAX_AGE (older than the TTL).");
const timestamp = z.string().nullable().describe("Event time of the value, RFC 3339; null when not found.");

export const FetchFeaturesResponse = z
  .object({
    feature_group_name: z.string().describe("The group as requested."),
    version: z.number().int().describe("The version read."),
    feature_columns: z.array(z.string()).describe("The features, in the order of each row's values."),
    primary_key_names: z.array(z.string()).describe("The entity keys, in the order of primary_key_values."),
    rows: z
      .array(
        z.object({
          primary_key_values: z.array(z.unknown()).describe("The key of this row."),
          values: z.array(jsonValue).describe("One value per feature column."),
          statuses: z.array(status).describe("One status per feature column."),
          event_timestamps: z.array(timestamp).describe("One event time per feature column."),
        }),
      )
      .describe("One row per requested key, in request order."),
  })
  .describe("Feature values per key, with a status and event time per value.");
export type FetchFeaturesResponse = z.infer<typeof FetchFeaturesResponse>;

export const GetOnlineFeaturesRequest = z
  .strictObject({
    features: z
      .array(z.string().min(3).max(507).describe("A feature reference, group:feature (user_features:age)."))
      .min(1)
      .max(500)
      .optional()
      .describe("Features to read as group:feature."),
    feature_service: z
      .string()
      .optional()
      .describe("Not supported: list the features instead (feature services have no Darwin kind)."),
    entities: z
      .record(z.string().min(1).max(48), z.array(keyValue).min(1))
      .describe("Entity key columns: each key name to its values, one per row, e.g. {user_id: [1, 2]}."),
    full_feature_names: z
      .boolean()
      .default(false)
      .describe("Name features group__feature in the response instead of feature."),
  })
  .describe("Feast 0.67's get-online-features request.");
export type GetOnlineFeaturesRequest = z.infer<typeof GetOnlineFeaturesRequest>;

export const GetOnlineFeaturesResponse = z
  .object({
    metadata: z
      .object({ feature_names: z.array(z.string()).describe("Entity keys first, then the features.") })
      .describe("Names of the result columns."),
    results: z
      .array(
        z.object({
          values: z.array(jsonValue).describe("One value per entity row."),
          statuses: z.array(status).describe("One status per entity row."),
          event_timestamps: z.array(z.string()).describe("One event time per entity row (epoch when none)."),
        }),
      )
      .describe("One column per feature name (column-major), in metadata.feature_names order."),
  })
  .describe("Feast 0.67's get-online-features response.");
export type GetOnlineFeaturesResponse = z.infer<typeof GetOnlineFeaturesResponse>;

// A row is checked field by field against its group's schema (dataplane/shared/feature-row.ts), which
// names the row and field of any problem; checking it as a record here first cost more than parsing the
// JSON body, so the request schema only documents it.
const rowObject = z.unknown().meta({
  type: "object",
  additionalProperties: true,
  description:
    "One row: each entity key, the features it sets, and event_time (RFC 3339 or epoch milliseconds), e.g. {user_id: 123, age: 31, event_time: '2026-11-27T10:00:00Z'}.",
});

export const PushFeaturesRequest = z
  .strictObject({
    feature_group_name: name("The feature group: its Kubernetes name, or with '_' for '-' (user_features)."),
    version: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Schema version to write; the group's spec.version when absent."),
    rows: z
      .array(rowObject)
      .min(1)
      .describe("The rows to write; each is checked against the version's schema."),
  })
  .describe("Rows of feature values with their event times, for the group's Kafka topic.");
export type PushFeaturesRequest = z.infer<typeof PushFeaturesRequest>;

export const PushFeaturesResponse = z
  .object({
    feature_group_name: z.string().describe("The group as requested."),
    version: z.number().int().describe("The version written."),
    topic: z.string().describe("The Kafka topic that acknowledged the rows."),
    rows: z.number().int().describe("Rows acknowledged by Kafka (acks=all)."),
  })
  .describe("Kafka acknowledged every row; the materializer writes them to the online store.");
export type PushFeaturesResponse = z.infer<typeof PushFeaturesResponse>;

export const FeastPushRequest = z
  .strictObject({
    push_source_name: name("The push source: a feature group's name (user_features)."),
    df: z
      .record(z.string(), z.array(z.unknown()))
      .describe(
        "Column-major rows, as pandas' to_dict('list'): each entity key, features, and event_timestamp (or event_time); a 'created' column is ignored.",
      ),
    to: z
      .enum(["online", "offline", "online_and_offline"])
      .default("online")
      .describe("Where the rows go; online and online_and_offline are accepted."),
    allow_registry_cache: z
      .boolean()
      .default(true)
      .describe("Accepted for Feast clients; groups always come from a cache."),
    transform_on_write: z
      .boolean()
      .default(true)
      .describe("Accepted for Feast clients; there are no transformations."),
  })
  .describe("Feast's push request.");
export type FeastPushRequest = z.infer<typeof FeastPushRequest>;
