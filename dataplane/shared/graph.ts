/**
 * Bounded walks over an edge table in MariaDB (a recursive CTE), shared by Chronos's entity graph and the
 * catalog's OpenLineage graph. Nodes are BIGINT keys; an edge table has a `from_pk` and a `to_pk` column and
 * indexes on both, so each step of the walk is an index lookup.
 */
import type { Pool, Rows } from "./mysql.ts";

export type Direction = "upstream" | "downstream" | "both";

export interface WalkOptions {
  /** Edge table with from_pk and to_pk columns (a constant of the caller, never user input). */
  table: string;
  start: number;
  /** Hops from the start; 0 returns the start alone. */
  depth: number;
  direction: Direction;
  /** At most this many nodes come back (nearest first); `truncated` says when more were reachable. */
  maxNodes: number;
}

export interface Walk {
  /** Node key -> its distance in hops from the start. */
  nodes: Map<number, number>;
  /** Edges whose two ends are both in `nodes`, each once. */
  edges: Array<{ from: number; to: number; pk: number }>;
  truncated: boolean;
}

const STEP = {
  downstream: "SELECT e.to_pk, w.depth + 1 FROM walk w JOIN %T e ON e.from_pk = w.pk WHERE w.depth < ?",
  upstream: "SELECT e.from_pk, w.depth + 1 FROM walk w JOIN %T e ON e.to_pk = w.pk WHERE w.depth < ?",
} as const;

/** Nodes within `depth` hops of `start` in the given direction, and the edges between them. */
export async function walkGraph(pool: Pool, options: WalkOptions): Promise<Walk> {
  const nodes = new Map<number, number>([[options.start, 0]]);
  let truncated = false;
  const directions: Array<"upstream" | "downstream"> =
    options.direction === "both" ? ["upstream", "downstream"] : [options.direction];
  for (const direction of directions) {
    if (options.depth === 0) break;
    // UNION (not UNION ALL) drops repeated (node, depth) pairs, so cycles end at the depth bound.
    const sql = `WITH RECURSIVE walk (pk, depth) AS (
        SELECT CAST(? AS SIGNED), 0
        UNION
        ${STEP[direction].replace("%T", options.table)}
      )
      SELECT pk, MIN(depth) AS distance FROM walk GROUP BY pk ORDER BY distance, pk LIMIT ?`;
    const [rows] = await pool.query<Rows>(sql, [options.start, options.depth, options.maxNodes + 1]);
    for (const row of rows) {
      const pk = Number(row.pk);
      const depth = Number(row.distance);
      const seen = nodes.get(pk);
      if (seen === undefined || depth < seen) nodes.set(pk, depth);
    }
    if (rows.length > options.maxNodes) truncated = true;
  }
  if (nodes.size > options.maxNodes) {
    truncated = true;
    const kept = [...nodes.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, options.maxNodes);
    nodes.clear();
    for (const [pk, depth] of kept) nodes.set(pk, depth);
  }
  const keys = [...nodes.keys()];
  const [edgeRows] = await pool.query<Rows>(
    `SELECT pk, from_pk, to_pk FROM ${options.table} WHERE from_pk IN (?) AND to_pk IN (?)`,
    [keys, keys],
  );
  const edges = edgeRows.map((row) => ({
    pk: Number(row.pk),
    from: Number(row.from_pk),
    to: Number(row.to_pk),
  }));
  return { nodes, edges, truncated };
}
