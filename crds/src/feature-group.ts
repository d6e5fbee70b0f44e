/** FeatureGroup: a versioned set of typed features keyed by entities, served online from Cassandra. */
import { z } from "zod";
import { cel, IDENTIFIER, listMap, matching, owner, statusBase, tags } from "./common.ts";
import { defineKind } from "./kind.ts";

/** Value types a feature can hold; each maps to one Cassandra column type and one JSON shape. */
export const FEATURE_TYPES = [
  "bool",
  "int32",
  "int64",
  "float32",
  "float64",
  "string",
  "bytes",
  "timestamp",
  "int64_list",
  "float32_list",
  "float64_list",
  "string_list",
] as const;

/** Types an entity key can have (list and float types make poor keys). */
export const ENTITY_TYPES = ["int32", "int64", "string", "bytes"] as const;

const columnName = (what: string) =>
  matching(
    z.string().min(1).max(48),
    IDENTIFIER,
    "must be lower-case letters, digits and '_', starting with a letter or '_', e.g. activity_score",
  ).describe(
    `${what}: lower-case letters, digits and '_', starting with a letter or '_' (a Cassandra column name).`,
  );

export const Entity = z
  .object({
    name: columnName("Name of the entity key, e.g. user_id"),
    type: z.enum(ENTITY_TYPES).describe("Type of the key: int32, int64, string or bytes."),
    description: z.string().max(1024).optional().describe("What the key identifies."),
  })
  .describe("An entity key column; together the entities form the primary key of the group.");

export const Feature = z
  .object({
    name: columnName("Name of the feature, e.g. activity_score"),
    type: z.enum(FEATURE_TYPES).describe(`Value type: one of ${FEATURE_TYPES.join(", ")}.`),
    description: z.string().max(1024).optional().describe("What the feature means, its unit and source."),
  })
  .describe("A typed feature column.");

/**
 * CEL: the name of the first feature of `list` (a CEL list expression) that satisfies `condition` (over `x`).
 * Indexing the list itself, rather than concatenating the filtered element, keeps the name's size known to
 * the apiserver's cost estimate (a filtered element's string counts as unbounded).
 */
const first = (list: string, condition: string) =>
  `${list}[${list}.indexOf(${list}.filter(x, ${condition})[0])].name`;

export const FeatureGroupSpec = cel(
  z
    .object({
      version: z
        .number()
        .int()
        .min(1)
        .max(100000)
        .default(1)
        .describe(
          "Schema version. Changing an entity, or removing, renaming or retyping a feature needs a higher version; adding a feature does not. Versions never go down.",
        ),
      description: z.string().max(1024).optional().describe("What the group holds."),
      owner: owner().optional(),
      tags: tags(),
      entities: listMap(
        z
          .array(Entity)
          .min(1)
          .max(8)
          .describe("Entity keys, in primary-key order (e.g. [{name: user_id, type: int64}])."),
        "name",
      ),
      features: listMap(z.array(Feature).min(1).max(500).describe("The features of the group."), "name"),
      ttlSeconds: z
        .number()
        .int()
        .min(0)
        .max(31536000)
        .default(0)
        .describe(
          "Values older than this are reported as expired (OUTSIDE_MAX_AGE) on reads; 0 keeps them forever.",
        ),
      online: z
        .object({
          enabled: z
            .boolean()
            .default(true)
            .describe("Keep the latest values in the online store (Cassandra) for serving."),
        })
        .default({ enabled: true })
        .describe("Online serving settings."),
      stream: z
        .object({
          enabled: z
            .boolean()
            .default(false)
            .describe(
              "Create a Kafka topic whose messages are materialised into the online store (with online.enabled) and the offline store (when the materializer has one).",
            ),
          partitions: z
            .number()
            .int()
            .min(1)
            .max(1024)
            .default(3)
            .describe("Partitions of the feature topic."),
        })
        .default({ enabled: false, partitions: 3 })
        .describe("Streaming ingestion settings."),
      servedVersions: z
        .array(z.number().int().min(1).max(100000).describe("A version number."))
        .max(16)
        .optional()
        .describe(
          "Older versions the feature server still answers besides spec.version (which is always served). Unset: every version the group has had stays served; [] serves only spec.version.",
        ),
      deletionPolicy: z
        .enum(["Delete", "Retain"])
        .default("Retain")
        .describe("On deletion, Delete drops the Cassandra table and Kafka topic; Retain keeps them."),
    })
    .describe(
      "Desired state of a feature group: its entity keys, typed features, version and serving settings.",
    ),
  {
    rule: "self.features.all(f, !self.entities.exists(e, e.name == f.name))",
    message: "a feature may not have the same name as an entity key",
    messageExpression: `'feature "' + ${first("self.features", "self.entities.exists(e, e.name == x.name)")} + '" has the name of an entity key: give the feature another name'`,
    fieldPath: ".features",
  },
  {
    rule: "self.version >= oldSelf.version",
    message: "version may not decrease",
    fieldPath: ".version",
  },
  {
    rule: "self.version != oldSelf.version || self.features.all(f, !oldSelf.features.exists(o, o.name == f.name && o.type != f.type))",
    message: "changing a feature's type needs a version bump: increase spec.version",
    messageExpression: `'type of feature "' + ${first("self.features", "oldSelf.features.exists(o, o.name == x.name && o.type != x.type)")} + '" changed without a version bump: keep the type, or increase spec.version (a new version gets a new table)'`,
    fieldPath: ".features",
  },
  {
    rule: "self.version != oldSelf.version || oldSelf.features.all(o, self.features.exists(f, f.name == o.name))",
    message:
      "removing or renaming a feature needs a version bump: readers of this version would lose the column; increase spec.version",
    messageExpression: `'feature "' + ${first("oldSelf.features", "!self.features.exists(f, f.name == x.name)")} + '" was removed or renamed without a version bump: readers of this version would lose the column; keep it, or increase spec.version'`,
    fieldPath: ".features",
  },
  {
    rule: "self.version != oldSelf.version || self.entities == oldSelf.entities",
    message: "changing the entity keys needs a version bump: increase spec.version",
    fieldPath: ".entities",
  },
);

export const FeatureGroupStatus = z
  .object({
    keyspace: z.string().optional().describe("Cassandra keyspace of the namespace's feature groups."),
    table: z.string().optional().describe("Cassandra table holding the online values, as keyspace.table."),
    topic: z.string().optional().describe("Kafka topic feeding the group, when streaming is enabled."),
    schemaHash: z
      .string()
      .optional()
      .describe("Hash of the entity and feature schema of the current version."),
    servedVersion: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Version the feature server reads when a request names none (spec.version)."),
    servedVersions: z
      .array(z.number().int().min(1).describe("A version number."))
      .optional()
      .describe("Every version the feature server answers, oldest first; each has its own table and topic."),
    lastWriteTime: z
      .string()
      .optional()
      .describe(
        "Event time of the newest value the materializer wrote (RFC 3339, microseconds): the group's freshness.",
      ),
    materialization: z
      .object({
        lag: z
          .number()
          .int()
          .min(0)
          .describe(
            "Messages on the served versions' topics not yet committed by the materializer, i.e. not yet in every store it writes (summed over partitions).",
          ),
      })
      .optional()
      .describe(
        "Written by the materializer (field manager darwin-materializer), not by the operator: how far the stores are behind the group's topics.",
      ),
    ...statusBase,
  })
  .describe("Observed state of the feature group.");

export const FeatureGroup = defineKind({
  kind: "FeatureGroup",
  plural: "featuregroups",
  singular: "featuregroup",
  shortNames: ["fg"],
  scope: "Namespaced",
  description:
    "FeatureGroup declares a versioned set of typed features keyed by entities; Darwin creates its online table and stream topic and serves it with TTL enforcement.",
  spec: FeatureGroupSpec,
  status: FeatureGroupStatus,
  maxNameLength: 63,
  printerColumns: [
    { name: "Version", type: "integer", jsonPath: ".spec.version", description: "Schema version." },
    { name: "Table", type: "string", jsonPath: ".status.table", description: "Online table." },
    { name: "Topic", type: "string", jsonPath: ".status.topic", description: "Stream topic.", priority: 1 },
    { name: "TTL", type: "integer", jsonPath: ".spec.ttlSeconds", description: "Time to live in seconds." },
    {
      name: "Fresh",
      type: "date",
      jsonPath: ".status.lastWriteTime",
      description: "Event time of the newest value materialized.",
      priority: 1,
    },
    {
      name: "Lag",
      type: "integer",
      jsonPath: ".status.materialization.lag",
      description: "Messages not yet materialized.",
      priority: 1,
    },
  ],
});
