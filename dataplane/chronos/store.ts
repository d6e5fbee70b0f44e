/**
 * Chronos's reads and writes in MariaDB. `recordEvent` is the processor's one write: the event, the
 * entities and relationships its rules produced, and the rules' counts, in one transaction, keyed by the
 * event id, so a redelivered event changes nothing.
 */
import { type Direction, walkGraph } from "../shared/graph.ts";
import { type Connection, inTransaction, type Pool, type Rows } from "../shared/mysql.ts";
import type { ChronosEvent } from "./event.ts";
import type { TransformOutput } from "./transform.ts";

export interface RuleOutcome {
  namespace: string;
  name: string;
  /** The rule's output, or the reason it failed. */
  result: { output: TransformOutput } | { error: string };
}

/** false when the event was already recorded (nothing was written). */
export async function recordEvent(
  pool: Pool,
  event: ChronosEvent,
  outcomes: RuleOutcome[],
): Promise<boolean> {
  return inTransaction(pool, async (db) => {
    const [inserted] = await db.query<import("mysql2").ResultSetHeader>(
      `INSERT IGNORE INTO chronos_events (namespace, id, source, type, event_time, received_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        event.namespace,
        event.id,
        event.source,
        event.type,
        new Date(event.time),
        new Date(event.receivedAt),
        JSON.stringify(event.payload),
      ],
    );
    if (inserted.affectedRows === 0) return false;
    const seq = inserted.insertId;
    const touched = new Set<number>();
    for (const outcome of outcomes) {
      if ("error" in outcome.result) continue;
      const { entities, relationships } = outcome.result.output;
      for (const entity of entities)
        touched.add(await upsertEntity(db, event, entity.type, entity.id, entity.attributes ?? {}));
      for (const relationship of relationships) {
        const from = await upsertEntity(db, event, relationship.from.type, relationship.from.id, {});
        const to = await upsertEntity(db, event, relationship.to.type, relationship.to.id, {});
        touched.add(from).add(to);
        await db.query(
          `INSERT INTO chronos_relationships (namespace, from_pk, type, to_pk, attributes, first_event_id, last_event_id)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE attributes = JSON_MERGE_PATCH(attributes, VALUES(attributes)),
             last_event_id = VALUES(last_event_id), updated_at = CURRENT_TIMESTAMP(3)`,
          [
            event.namespace,
            from,
            relationship.type,
            to,
            JSON.stringify(relationship.attributes ?? {}),
            event.id,
            event.id,
          ],
        );
      }
    }
    if (touched.size > 0)
      await db.query("INSERT IGNORE INTO chronos_entity_events (entity_pk, event_seq) VALUES ?", [
        [...touched].map((pk) => [pk, seq]),
      ]);
    for (const outcome of outcomes) {
      const failed = "error" in outcome.result;
      await db.query(
        `INSERT INTO chronos_transformer_stats (namespace, name, processed, failed, last_error)
         VALUES (?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE processed = processed + VALUES(processed), failed = failed + VALUES(failed),
           last_error = COALESCE(VALUES(last_error), last_error), updated_at = CURRENT_TIMESTAMP(3)`,
        [
          outcome.namespace,
          outcome.name,
          failed ? 0 : 1,
          failed ? 1 : 0,
          "error" in outcome.result ? `event ${event.id}: ${outcome.result.error}`.slice(0, 4000) : null,
        ],
      );
    }
    return true;
  });
}

/** Inserts or updates an entity and returns its key (LAST_INSERT_ID(pk) makes an update report it too). */
async function upsertEntity(
  db: Connection,
  event: ChronosEvent,
  type: string,
  id: string,
  attributes: Record<string, unknown>,
): Promise<number> {
  const [result] = await db.query<import("mysql2").ResultSetHeader>(
    `INSERT INTO chronos_entities (namespace, type, id, attributes, first_event_id, last_event_id)
     VALUES (?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE pk = LAST_INSERT_ID(pk), attributes = JSON_MERGE_PATCH(attributes, VALUES(attributes)),
       last_event_id = VALUES(last_event_id), updated_at = CURRENT_TIMESTAMP(3)`,
    [event.namespace, type, id, JSON.stringify(attributes), event.id, event.id],
  );
  return result.insertId;
}

export interface TransformerStats {
  namespace: string;
  name: string;
  processed: number;
  failed: number;
  lastError: string | undefined;
  updatedAt: Date;
}

/** Counts of rules changed after `since` (all when undefined). */
export async function transformerStats(pool: Pool, since?: Date): Promise<TransformerStats[]> {
  const [rows] = await pool.query<Rows>(
    `SELECT namespace, name, processed, failed, last_error, updated_at FROM chronos_transformer_stats
     ${since ? "WHERE updated_at >= ?" : ""}`,
    since ? [since] : [],
  );
  return rows.map((row) => ({
    namespace: String(row.namespace),
    name: String(row.name),
    processed: Number(row.processed),
    failed: Number(row.failed),
    lastError: row.last_error === null ? undefined : String(row.last_error),
    updatedAt: row.updated_at as Date,
  }));
}

export interface EntityRef {
  type: string;
  id: string;
}

export interface Entity extends EntityRef {
  namespace: string;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Relationship {
  type: string;
  from: EntityRef;
  to: EntityRef;
  attributes: Record<string, unknown>;
  lastEventId: string;
}

interface EntityRow extends Entity {
  pk: number;
}

function entityFromRow(row: mysql2Row): EntityRow {
  return {
    pk: Number(row.pk),
    namespace: String(row.namespace),
    type: String(row.type),
    id: String(row.id),
    attributes: parseJson(row.attributes),
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}
type mysql2Row = Rows[number];

function parseJson(value: unknown): Record<string, unknown> {
  if (typeof value === "string") return JSON.parse(value) as Record<string, unknown>;
  return (value ?? {}) as Record<string, unknown>;
}

async function findEntity(pool: Pool, namespace: string, ref: EntityRef): Promise<EntityRow | undefined> {
  const [rows] = await pool.query<Rows>(
    "SELECT * FROM chronos_entities WHERE namespace = ? AND type = ? AND id = ?",
    [namespace, ref.type, ref.id],
  );
  return rows[0] ? entityFromRow(rows[0]) : undefined;
}

export async function getEntity(pool: Pool, namespace: string, ref: EntityRef): Promise<Entity | undefined> {
  const row = await findEntity(pool, namespace, ref);
  if (!row) return undefined;
  const { pk: _pk, ...entity } = row;
  return entity;
}

/** The entity's relationships in both directions (at most `limit`), newest first. */
export async function entityRelationships(
  pool: Pool,
  namespace: string,
  ref: EntityRef,
  limit: number,
): Promise<Relationship[] | undefined> {
  const entity = await findEntity(pool, namespace, ref);
  if (!entity) return undefined;
  const [rows] = await pool.query<Rows>(
    `SELECT r.type, r.attributes, r.last_event_id, f.type AS from_type, f.id AS from_id, t.type AS to_type, t.id AS to_id
     FROM chronos_relationships r
     JOIN chronos_entities f ON f.pk = r.from_pk JOIN chronos_entities t ON t.pk = r.to_pk
     WHERE r.from_pk = ? OR r.to_pk = ? ORDER BY r.updated_at DESC, r.pk DESC LIMIT ?`,
    [entity.pk, entity.pk, limit],
  );
  return rows.map((row) => ({
    type: String(row.type),
    from: { type: String(row.from_type), id: String(row.from_id) },
    to: { type: String(row.to_type), id: String(row.to_id) },
    attributes: parseJson(row.attributes),
    lastEventId: String(row.last_event_id),
  }));
}

export interface StoredEvent {
  id: string;
  namespace: string;
  source: string;
  type: string;
  time: string;
  receivedAt: string;
  payload: Record<string, unknown>;
}

export interface EventPage {
  events: StoredEvent[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/** The events that touched an entity, oldest first, a page at a time (cursor: the event log's sequence). */
export async function entityEvents(
  pool: Pool,
  namespace: string,
  ref: EntityRef,
  page: { limit: number; after?: number | undefined },
): Promise<EventPage | undefined> {
  const entity = await findEntity(pool, namespace, ref);
  if (!entity) return undefined;
  const [rows] = await pool.query<Rows>(
    `SELECT e.seq, e.id, e.namespace, e.source, e.type, e.event_time, e.received_at, e.payload
     FROM chronos_entity_events x JOIN chronos_events e ON e.seq = x.event_seq
     WHERE x.entity_pk = ? AND x.event_seq > ? ORDER BY x.event_seq LIMIT ?`,
    [entity.pk, page.after ?? 0, page.limit + 1],
  );
  const events = rows.slice(0, page.limit).map((row) => ({
    id: String(row.id),
    namespace: String(row.namespace),
    source: String(row.source),
    type: String(row.type),
    time: (row.event_time as Date).toISOString(),
    receivedAt: (row.received_at as Date).toISOString(),
    payload: parseJson(row.payload),
  }));
  const last = rows[page.limit - 1];
  return rows.length > page.limit && last ? { events, next: String(last.seq) } : { events };
}

/** Distinct sources seen in a namespace's event log, with their event counts and latest event time. */
export async function eventSources(
  pool: Pool,
  namespaces: string[],
): Promise<Array<{ namespace: string; source: string; events: number; lastEventTime: string }>> {
  if (namespaces.length === 0) return [];
  const [rows] = await pool.query<Rows>(
    `SELECT namespace, source, COUNT(*) AS events, MAX(event_time) AS last_time FROM chronos_events
     WHERE namespace IN (?) GROUP BY namespace, source ORDER BY namespace, source`,
    [namespaces],
  );
  return rows.map((row) => ({
    namespace: String(row.namespace),
    source: String(row.source),
    events: Number(row.events),
    lastEventTime: (row.last_time as Date).toISOString(),
  }));
}

/** Namespaces that have anything in the entity graph (a tenant list for authorisation checks). */
export async function graphNamespaces(pool: Pool): Promise<string[]> {
  const [rows] = await pool.query<Rows>("SELECT DISTINCT namespace FROM chronos_events");
  return rows.map((row) => String(row.namespace));
}

export interface Lineage {
  root: EntityRef;
  direction: Direction;
  depth: number;
  nodes: Array<Entity & { distance: number }>;
  edges: Array<{ type: string; from: EntityRef; to: EntityRef }>;
  truncated: boolean;
}

/** The entities within `depth` relationship hops of one entity, up- or downstream, and the edges among them. */
export async function lineage(
  pool: Pool,
  namespace: string,
  ref: EntityRef,
  options: { direction: Direction; depth: number; maxNodes: number },
): Promise<Lineage | undefined> {
  const root = await findEntity(pool, namespace, ref);
  if (!root) return undefined;
  const walk = await walkGraph(pool, { table: "chronos_relationships", start: root.pk, ...options });
  const keys = [...walk.nodes.keys()];
  const [rows] = await pool.query<Rows>("SELECT * FROM chronos_entities WHERE pk IN (?)", [keys]);
  const byPk = new Map(rows.map((row) => [Number(row.pk), entityFromRow(row)]));
  const [edgeRows] = walk.edges.length
    ? await pool.query<Rows>("SELECT pk, type FROM chronos_relationships WHERE pk IN (?)", [
        walk.edges.map((e) => e.pk),
      ])
    : [[] as Rows];
  const edgeType = new Map(edgeRows.map((row) => [Number(row.pk), String(row.type)]));
  const refOf = (pk: number): EntityRef => {
    const e = byPk.get(pk);
    return { type: e?.type ?? "", id: e?.id ?? "" };
  };
  return {
    root: { type: root.type, id: root.id },
    direction: options.direction,
    depth: options.depth,
    nodes: [...walk.nodes.entries()].flatMap(([pk, distance]) => {
      const row = byPk.get(pk);
      if (!row) return [];
      const { pk: _pk, ...entity } = row;
      return [{ ...entity, distance }];
    }),
    edges: walk.edges.map((e) => ({ type: edgeType.get(e.pk) ?? "", from: refOf(e.from), to: refOf(e.to) })),
    truncated: walk.truncated,
  };
}
