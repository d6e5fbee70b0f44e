/** CatalogAsset: a data asset (dataset, table, model, stream...) registered in the Darwin catalog. */
import { z } from "zod";
import { cel, IDENTIFIER, listMap, matching, owner, statusBase, tags } from "./common.ts";
import { defineKind } from "./kind.ts";

export const ASSET_TYPES = [
  "dataset",
  "table",
  "model",
  "feature-group",
  "stream",
  "model-deployment",
  "compute-cluster",
] as const;

export const SchemaField = z
  .object({
    name: z.string().min(1).max(256).describe("Column or field name."),
    type: z
      .string()
      .min(1)
      .max(256)
      .describe("Type as the source names it, e.g. int32, float64, string, timestamp."),
    description: z.string().max(1024).optional().describe("What the field holds."),
    nullable: z.boolean().default(true).describe("Whether the field may be null."),
  })
  .describe("One field of the asset's schema.");

export const CatalogAssetSpec = cel(
  z
    .object({
      type: z.enum(ASSET_TYPES).describe(`Kind of asset: ${ASSET_TYPES.join(", ")}.`),
      location: matching(
        z.string().min(1).max(2048),
        /^[a-z][a-z0-9+.-]*:\/\/?[^\s]+$/,
        "must be a URI with a scheme, e.g. s3://lake/housing/raw/, cassandra://host:9042/ks.table or models:/iris",
      ).describe(
        "Where the asset lives, as a URI: s3://lake/housing/raw/, cassandra://host:9042/ks.table, kafka://host:9092/topic, models:/iris.",
      ),
      owner: owner(),
      description: z.string().max(4096).optional().describe("What the asset is, for search results."),
      tags: tags(),
      schema: listMap(
        z.array(SchemaField).max(2000).default([]).describe("Fields of the asset, when it has a schema."),
        "name",
      ),
      format: matching(
        z.string().max(64),
        IDENTIFIER,
        "must be lower-case letters, digits and '_', starting with a letter or '_', e.g. parquet",
      )
        .optional()
        .describe("Storage format, e.g. parquet, delta, csv, avro."),
    })
    .describe("Description of a data asset: type, location, owner, schema and tags."),
  {
    rule: "self.type != 'table' || size(self.schema) > 0",
    message: "a table needs a schema: list its columns in spec.schema",
    fieldPath: ".schema",
  },
);

export const CatalogAssetStatus = z
  .object({
    registered: z.boolean().optional().describe("Whether the asset is in the catalog index."),
    schemaVersion: z.number().int().min(0).optional().describe("Increments each time spec.schema changes."),
    ...statusBase,
  })
  .describe("Observed state of the catalog entry.");

export const CatalogAsset = defineKind({
  kind: "CatalogAsset",
  plural: "catalogassets",
  singular: "catalogasset",
  shortNames: ["ca", "asset"],
  scope: "Namespaced",
  description:
    "CatalogAsset registers a data asset (dataset, table, model, feature group or stream) in the Darwin catalog for search, schema history and lineage.",
  spec: CatalogAssetSpec,
  status: CatalogAssetStatus,
  maxNameLength: 253,
  printerColumns: [
    { name: "Type", type: "string", jsonPath: ".spec.type", description: "Asset type." },
    { name: "Location", type: "string", jsonPath: ".spec.location", description: "Location." },
    { name: "Owner", type: "string", jsonPath: ".spec.owner", description: "Owner." },
    {
      name: "Schema",
      type: "integer",
      jsonPath: ".status.schemaVersion",
      description: "Schema version.",
      priority: 1,
    },
  ],
});
