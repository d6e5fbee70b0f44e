/**
 * The catalog's tables in MariaDB: assets with a FULLTEXT index over what people search by (name words,
 * description, tags, column names and descriptions), their schema history, a model's versions, and the OpenLineage graph
 * (datasets and jobs as nodes, reads and writes as edges, and the runs that produced them).
 */
import type { Migration } from "../shared/mysql.ts";

const TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

export const CATALOG_MIGRATIONS: Migration[] = [
  {
    id: "001-assets",
    statements: [
      `CREATE TABLE IF NOT EXISTS catalog_assets (
        pk BIGINT NOT NULL AUTO_INCREMENT,
        namespace VARCHAR(63) NOT NULL,
        name VARCHAR(253) NOT NULL,
        uid VARCHAR(64) NOT NULL,
        type VARCHAR(32) NOT NULL,
        location VARCHAR(2048) NOT NULL,
        format VARCHAR(64) NULL,
        owner VARCHAR(320) NOT NULL,
        description TEXT NOT NULL,
        name_words VARCHAR(512) NOT NULL,
        tags_text TEXT NOT NULL,
        columns_text MEDIUMTEXT NOT NULL,
        spec JSON NOT NULL,
        schema_version INT NOT NULL DEFAULT 0,
        schema_hash CHAR(64) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (pk),
        UNIQUE KEY catalog_assets_name (namespace, name),
        KEY catalog_assets_type (namespace, type),
        FULLTEXT KEY catalog_assets_name_ft (name_words),
        FULLTEXT KEY catalog_assets_text_ft (name_words, description, tags_text, columns_text)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS catalog_asset_tags (
        asset_pk BIGINT NOT NULL,
        tag VARCHAR(63) NOT NULL,
        PRIMARY KEY (asset_pk, tag),
        KEY catalog_asset_tags_tag (tag)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS catalog_schema_versions (
        asset_pk BIGINT NOT NULL,
        version INT NOT NULL,
        schema_hash CHAR(64) NOT NULL,
        fields JSON NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (asset_pk, version)
      ) ${TABLE_OPTIONS}`,
    ],
  },
  {
    id: "002-openlineage",
    statements: [
      // node_key: SHA-256 of type, OpenLineage namespace and name (names can be long S3 keys).
      `CREATE TABLE IF NOT EXISTS catalog_lineage_nodes (
        pk BIGINT NOT NULL AUTO_INCREMENT,
        namespace VARCHAR(63) NOT NULL,
        node_key BINARY(32) NOT NULL,
        node_type VARCHAR(16) NOT NULL,
        ol_namespace VARCHAR(1024) NOT NULL,
        name VARCHAR(2048) NOT NULL,
        facets JSON NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (pk),
        UNIQUE KEY catalog_lineage_nodes_key (namespace, node_key)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS catalog_lineage_edges (
        pk BIGINT NOT NULL AUTO_INCREMENT,
        from_pk BIGINT NOT NULL,
        to_pk BIGINT NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (pk),
        UNIQUE KEY catalog_lineage_edges_key (from_pk, to_pk),
        KEY catalog_lineage_edges_to (to_pk)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS catalog_lineage_runs (
        namespace VARCHAR(63) NOT NULL,
        run_id CHAR(36) NOT NULL,
        job_pk BIGINT NOT NULL,
        state VARCHAR(16) NOT NULL,
        event_time DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (namespace, run_id),
        KEY catalog_lineage_runs_job (job_pk, event_time)
      ) ${TABLE_OPTIONS}`,
    ],
  },
  {
    // A model's versions (MLflow registered models): number, status, aliases, run and experiment. The uid
    // index finds the assets one source registered (`mlflow:<creation time>` for MLflow's).
    id: "003-model-versions",
    statements: [
      "ALTER TABLE catalog_assets ADD COLUMN IF NOT EXISTS versions JSON NULL",
      "CREATE INDEX IF NOT EXISTS catalog_assets_uid ON catalog_assets (uid)",
    ],
  },
];
