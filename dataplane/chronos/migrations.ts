/**
 * Chronos's tables in MariaDB. Everything belongs to a namespace (the tenant). Entities and relationships
 * have integer keys so lineage walks join on integers; the natural keys are unique indexes, which is what
 * makes the processor's upserts idempotent.
 */
import type { Migration } from "../shared/mysql.ts";

const TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

export const CHRONOS_MIGRATIONS: Migration[] = [
  {
    id: "001-events-entities-relationships",
    statements: [
      // The audit trail: every event the processor took, once per (namespace, id).
      `CREATE TABLE IF NOT EXISTS chronos_events (
        seq BIGINT NOT NULL AUTO_INCREMENT,
        namespace VARCHAR(63) NOT NULL,
        id VARCHAR(128) NOT NULL,
        source VARCHAR(128) NOT NULL,
        type VARCHAR(128) NOT NULL,
        event_time DATETIME(3) NOT NULL,
        received_at DATETIME(3) NOT NULL,
        processed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        payload JSON NOT NULL,
        PRIMARY KEY (seq),
        UNIQUE KEY chronos_events_id (namespace, id),
        KEY chronos_events_source (namespace, source, event_time)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS chronos_entities (
        pk BIGINT NOT NULL AUTO_INCREMENT,
        namespace VARCHAR(63) NOT NULL,
        type VARCHAR(64) NOT NULL,
        id VARCHAR(255) NOT NULL,
        attributes JSON NOT NULL,
        first_event_id VARCHAR(128) NOT NULL,
        last_event_id VARCHAR(128) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (pk),
        UNIQUE KEY chronos_entities_key (namespace, type, id)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS chronos_relationships (
        pk BIGINT NOT NULL AUTO_INCREMENT,
        namespace VARCHAR(63) NOT NULL,
        from_pk BIGINT NOT NULL,
        type VARCHAR(64) NOT NULL,
        to_pk BIGINT NOT NULL,
        attributes JSON NOT NULL,
        first_event_id VARCHAR(128) NOT NULL,
        last_event_id VARCHAR(128) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (pk),
        UNIQUE KEY chronos_relationships_key (from_pk, type, to_pk),
        KEY chronos_relationships_to (to_pk)
      ) ${TABLE_OPTIONS}`,
      // Which events touched which entity: the entity's audit log.
      `CREATE TABLE IF NOT EXISTS chronos_entity_events (
        entity_pk BIGINT NOT NULL,
        event_seq BIGINT NOT NULL,
        PRIMARY KEY (entity_pk, event_seq)
      ) ${TABLE_OPTIONS}`,
      // Per-transformer counts, written in the same transaction as the event they count.
      `CREATE TABLE IF NOT EXISTS chronos_transformer_stats (
        namespace VARCHAR(63) NOT NULL,
        name VARCHAR(253) NOT NULL,
        processed BIGINT NOT NULL DEFAULT 0,
        failed BIGINT NOT NULL DEFAULT 0,
        last_error TEXT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (namespace, name)
      ) ${TABLE_OPTIONS}`,
    ],
  },
];
