/**
 * The OpenLineage graph of a tenant: every dataset and job a RunEvent names becomes a node (facets merged,
 * newest wins), each input an edge dataset -> job and each output an edge job -> dataset, and the run's
 * latest state is kept. Queries return the graph around a node to a bounded depth in Marquez's shape
 * (`{graph: [{id, type, data, inEdges, outEdges}]}`), so Marquez clients and UIs can read it.
 */
import { createHash } from "node:crypto";
import type { ResultSetHeader } from "mysql2";
import { walkGraph } from "../shared/graph.ts";
import { type Connection, inTransaction, type Pool, type Rows } from "../shared/mysql.ts";
import type { RunEvent } from "./openlineage.ts";

export type NodeType = "dataset" | "job";

export interface NodeRef {
  type: NodeType;
  namespace: string;
  name: string;
}

/** Marquez's node id: `dataset:<namespace>:<name>` or `job:<namespace>:<name>`. */
export function nodeId(ref: NodeRef): string {
  return `${ref.type}:${ref.namespace}:${ref.name}`;
}

/**
 * Parses a node id. OpenLineage namespaces are often URIs with a port (`kafka://host:9092`) while names
 * rarely hold a colon, so the name is what follows the last colon.
 */
export function parseNodeId(id: string): NodeRef | undefined {
  const match = /^(dataset|job):(.+):([^:]+)$/.exec(id);
  if (!match) return undefined;
  return { type: match[1] as NodeType, namespace: match[2] as string, name: match[3] as string };
}

function nodeKey(ref: NodeRef): Buffer {
  return createHash("sha256").update(`${ref.type}\n${ref.namespace}\n${ref.name}`).digest();
}

async function upsertNode(
  db: Connection,
  tenant: string,
  ref: NodeRef,
  facets: Record<string, unknown> | undefined,
): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    `INSERT INTO catalog_lineage_nodes (namespace, node_key, node_type, ol_namespace, name, facets)
     VALUES (?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE pk = LAST_INSERT_ID(pk), facets = JSON_MERGE_PATCH(facets, VALUES(facets)),
       updated_at = CURRENT_TIMESTAMP(3)`,
    [tenant, nodeKey(ref), ref.type, ref.namespace, ref.name, JSON.stringify(facets ?? {})],
  );
  return result.insertId;
}

async function upsertEdge(db: Connection, from: number, to: number): Promise<void> {
  await db.query(
    `INSERT INTO catalog_lineage_edges (from_pk, to_pk) VALUES (?, ?)
     ON DUPLICATE KEY UPDATE updated_at = CURRENT_TIMESTAMP(3)`,
    [from, to],
  );
}

/** Records a (validated) RunEvent in a tenant's graph. Replaying an event changes nothing but timestamps. */
export async function recordRunEvent(pool: Pool, tenant: string, event: RunEvent): Promise<void> {
  await inTransaction(pool, async (db) => {
    const job = await upsertNode(
      db,
      tenant,
      { type: "job", namespace: event.job.namespace, name: event.job.name },
      event.job.facets,
    );
    for (const input of event.inputs) {
      const pk = await upsertNode(db, tenant, { type: "dataset", ...input }, input.facets);
      await upsertEdge(db, pk, job);
    }
    for (const output of event.outputs) {
      const pk = await upsertNode(db, tenant, { type: "dataset", ...output }, output.facets);
      await upsertEdge(db, job, pk);
    }
    // The latest event of a run gives its state; an older event arriving late does not move it back.
    await db.query(
      `INSERT INTO catalog_lineage_runs (namespace, run_id, job_pk, state, event_time) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE
         state = IF(VALUES(event_time) >= event_time, VALUES(state), state),
         event_time = GREATEST(event_time, VALUES(event_time)), updated_at = CURRENT_TIMESTAMP(3)`,
      [tenant, event.run.runId, job, event.eventType ?? "OTHER", new Date(event.eventTime)],
    );
  });
}

export interface GraphNode {
  id: string;
  type: "DATASET" | "JOB";
  data: {
    type: "DATASET" | "JOB";
    id: { namespace: string; name: string };
    namespace: string;
    name: string;
    facets: Record<string, unknown>;
    updatedAt: string;
    latestRun?: { runId: string; state: string; eventTime: string };
  };
  inEdges: Array<{ origin: string; destination: string }>;
  outEdges: Array<{ origin: string; destination: string }>;
}

/** The graph around a node, `depth` hops up- and downstream; undefined when the tenant has no such node. */
export async function lineageGraph(
  pool: Pool,
  tenant: string,
  ref: NodeRef,
  options: { depth: number; maxNodes: number },
): Promise<{ graph: GraphNode[]; truncated: boolean } | undefined> {
  const [found] = await pool.query<Rows>(
    "SELECT pk FROM catalog_lineage_nodes WHERE namespace = ? AND node_key = ?",
    [tenant, nodeKey(ref)],
  );
  const start = found[0]?.pk;
  if (start === undefined) return undefined;
  const walk = await walkGraph(pool, {
    table: "catalog_lineage_edges",
    start: Number(start),
    depth: options.depth,
    direction: "both",
    maxNodes: options.maxNodes,
  });
  const [rows] = await pool.query<Rows>(
    `SELECT n.*, r.run_id, r.state, r.event_time FROM catalog_lineage_nodes n
     LEFT JOIN catalog_lineage_runs r ON r.job_pk = n.pk AND r.event_time = (
       SELECT MAX(event_time) FROM catalog_lineage_runs WHERE job_pk = n.pk)
     WHERE n.pk IN (?)`,
    [[...walk.nodes.keys()]],
  );
  const nodes = new Map<number, GraphNode>();
  for (const row of rows) {
    const type = row.node_type === "job" ? "JOB" : "DATASET";
    const ref: NodeRef = { type: row.node_type, namespace: String(row.ol_namespace), name: String(row.name) };
    const data: GraphNode["data"] = {
      type,
      id: { namespace: ref.namespace, name: ref.name },
      namespace: ref.namespace,
      name: ref.name,
      facets: (typeof row.facets === "string" ? JSON.parse(row.facets) : row.facets) as Record<
        string,
        unknown
      >,
      updatedAt: (row.updated_at as Date).toISOString(),
    };
    if (row.run_id)
      data.latestRun = {
        runId: String(row.run_id),
        state: String(row.state),
        eventTime: (row.event_time as Date).toISOString(),
      };
    nodes.set(Number(row.pk), { id: nodeId(ref), type, data, inEdges: [], outEdges: [] });
  }
  for (const edge of walk.edges) {
    const from = nodes.get(edge.from);
    const to = nodes.get(edge.to);
    if (!from || !to) continue;
    const link = { origin: from.id, destination: to.id };
    from.outEdges.push(link);
    to.inEdges.push(link);
  }
  const graph = [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  return { graph, truncated: walk.truncated };
}
