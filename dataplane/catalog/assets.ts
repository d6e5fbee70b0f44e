/**
 * Catalog assets in MariaDB: registration from a CatalogAsset (or a platform object registering itself),
 * schema history (a new version only when the fields change), and ranked full-text search. Search text is
 * kept in columns of its own: the name split into words, the description, the tags, and the columns' names
 * and descriptions, each in a FULLTEXT index; a match in the name counts double.
 */
import { createHash } from "node:crypto";
import type { ResultSetHeader } from "mysql2";
import type { z } from "zod";
import type { CatalogAssetSpec } from "../../crds/src/catalog-asset.ts";
import { inTransaction, type Pool, type Rows } from "../shared/mysql.ts";

export type AssetSpec = z.infer<typeof CatalogAssetSpec>;

export interface AssetKey {
  namespace: string;
  name: string;
}

/** Words of a name: `housing-prices_raw.v2` -> `housing prices raw v2`, plus the name itself. */
export function nameWords(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  return [name, ...words].join(" ");
}

/** Column names with their underscore-separated words, and column descriptions. */
export function columnsText(schema: AssetSpec["schema"]): string {
  return schema
    .map((f) =>
      [f.name, ...f.name.split(/_+/).filter((w) => w !== f.name), f.description ?? ""].join(" ").trim(),
    )
    .join(" ")
    .trim();
}

/** Hash of the fields that define a schema version (order matters: it is the column order). */
export function schemaHash(schema: AssetSpec["schema"]): string {
  const canonical = schema.map((f) => [f.name, f.type, f.nullable, f.description ?? null]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** One version of a model asset (an MLflow registered model's version). */
export interface ModelVersionEntry {
  version: string;
  /** MLflow's status: READY, PENDING_REGISTRATION, FAILED_REGISTRATION. */
  status?: string;
  aliases: string[];
  description?: string;
  /** Where its files are (models:/m-..., mlflow-artifacts:/...). */
  source?: string;
  runId?: string;
  experimentId?: string;
  experimentName?: string;
  createdAt?: string;
  /** Its node in the tenant's lineage graph (GET /darwin-catalog/v1/lineage?nodeId=...). */
  lineageNode?: string;
}

export interface Registration {
  schemaVersion: number;
  /** true when this call created the asset or a new schema version. */
  changed: boolean;
}

/**
 * Inserts or updates the asset; a changed schema becomes the next version in its history. `versions`: a
 * model's versions (kept as given; none for other assets).
 */
export async function registerAsset(
  pool: Pool,
  key: AssetKey & { uid: string },
  spec: AssetSpec,
  versions?: ModelVersionEntry[],
): Promise<Registration> {
  return inTransaction(pool, async (db) => {
    const hash = schemaHash(spec.schema);
    const [existing] = await db.query<Rows>(
      "SELECT pk, uid, schema_version, schema_hash FROM catalog_assets WHERE namespace = ? AND name = ? FOR UPDATE",
      [key.namespace, key.name],
    );
    const row = existing[0];
    // An asset deleted and created again under the same name starts a new history.
    if (row && row.uid !== key.uid) {
      await db.query("DELETE FROM catalog_schema_versions WHERE asset_pk = ?", [row.pk]);
      await db.query("DELETE FROM catalog_asset_tags WHERE asset_pk = ?", [row.pk]);
      await db.query("DELETE FROM catalog_assets WHERE pk = ?", [row.pk]);
    }
    const current = row && row.uid === key.uid ? row : undefined;
    const schemaChanged = !current || current.schema_hash !== hash;
    const version = current ? Number(current.schema_version) + (schemaChanged ? 1 : 0) : 1;
    const values = {
      uid: key.uid,
      type: spec.type,
      location: spec.location,
      format: spec.format ?? null,
      owner: spec.owner,
      description: spec.description ?? "",
      name_words: nameWords(key.name),
      tags_text: spec.tags.join(" "),
      columns_text: columnsText(spec.schema),
      spec: JSON.stringify(spec),
      schema_version: version,
      schema_hash: hash,
      versions: versions ? JSON.stringify(versions) : null,
    };
    let pk: number;
    if (current) {
      pk = Number(current.pk);
      await db.query("UPDATE catalog_assets SET ?, updated_at = CURRENT_TIMESTAMP(3) WHERE pk = ?", [
        values,
        pk,
      ]);
    } else {
      const [inserted] = await db.query<ResultSetHeader>("INSERT INTO catalog_assets SET ?", [
        { namespace: key.namespace, name: key.name, ...values },
      ]);
      pk = inserted.insertId;
    }
    await db.query("DELETE FROM catalog_asset_tags WHERE asset_pk = ?", [pk]);
    if (spec.tags.length > 0)
      await db.query("INSERT IGNORE INTO catalog_asset_tags (asset_pk, tag) VALUES ?", [
        spec.tags.map((tag) => [pk, tag]),
      ]);
    if (schemaChanged)
      await db.query(
        "INSERT INTO catalog_schema_versions (asset_pk, version, schema_hash, fields) VALUES (?, ?, ?, ?)",
        [pk, version, hash, JSON.stringify(spec.schema)],
      );
    return { schemaVersion: version, changed: schemaChanged };
  });
}

/** Removes an asset and its history; `uid` guards against removing a newer asset of the same name. */
export async function deleteAsset(pool: Pool, key: AssetKey, uid?: string): Promise<boolean> {
  return inTransaction(pool, async (db) => {
    const [rows] = await db.query<Rows>(
      `SELECT pk FROM catalog_assets WHERE namespace = ? AND name = ? ${uid ? "AND uid = ?" : ""}`,
      uid ? [key.namespace, key.name, uid] : [key.namespace, key.name],
    );
    const pk = rows[0]?.pk;
    if (pk === undefined) return false;
    await db.query("DELETE FROM catalog_schema_versions WHERE asset_pk = ?", [pk]);
    await db.query("DELETE FROM catalog_asset_tags WHERE asset_pk = ?", [pk]);
    await db.query("DELETE FROM catalog_assets WHERE pk = ?", [pk]);
    return true;
  });
}

export interface Asset extends AssetKey {
  type: string;
  location: string;
  format?: string;
  owner: string;
  description: string;
  tags: string[];
  schema: AssetSpec["schema"];
  schemaVersion: number;
  updatedAt: string;
  /** A model's versions, newest first. */
  versions?: ModelVersionEntry[];
}

export interface SearchQuery {
  /** Tenants whose assets may be returned (already authorised). */
  namespaces: string[];
  q?: string | undefined;
  type?: string | undefined;
  tag?: string | undefined;
  owner?: string | undefined;
  limit: number;
  offset: number;
}

export interface SearchResult {
  total: number;
  assets: Array<Asset & { score: number }>;
}

const TEXT_MATCH =
  "MATCH(name_words, description, tags_text, columns_text) AGAINST (? IN NATURAL LANGUAGE MODE)";
const NAME_MATCH = "MATCH(name_words) AGAINST (? IN NATURAL LANGUAGE MODE)";

/** Assets matching every given filter; with `q`, ranked by relevance, otherwise by namespace and name. */
export async function searchAssets(pool: Pool, query: SearchQuery): Promise<SearchResult> {
  if (query.namespaces.length === 0) return { total: 0, assets: [] };
  const where = ["a.namespace IN (?)"];
  const params: unknown[] = [query.namespaces];
  if (query.q) {
    where.push(`${TEXT_MATCH} > 0`);
    params.push(query.q);
  }
  if (query.type) {
    where.push("a.type = ?");
    params.push(query.type);
  }
  if (query.owner) {
    where.push("a.owner = ?");
    params.push(query.owner);
  }
  if (query.tag) {
    where.push("EXISTS (SELECT 1 FROM catalog_asset_tags t WHERE t.asset_pk = a.pk AND t.tag = ?)");
    params.push(query.tag);
  }
  const filter = where.join(" AND ");
  const [counted] = await pool.query<Rows>(
    `SELECT COUNT(*) AS n FROM catalog_assets a WHERE ${filter}`,
    params,
  );
  const score = query.q ? `(2 * ${NAME_MATCH} + ${TEXT_MATCH})` : "0";
  const scoreParams = query.q ? [query.q, query.q] : [];
  const [rows] = await pool.query<Rows>(
    `SELECT a.*, ${score} AS score FROM catalog_assets a WHERE ${filter}
     ORDER BY score DESC, a.namespace, a.name LIMIT ? OFFSET ?`,
    [...scoreParams, ...params, query.limit, query.offset],
  );
  return {
    total: Number(counted[0]?.n ?? 0),
    assets: rows.map((row) => ({ ...assetFromRow(row), score: Number(row.score) })),
  };
}

export async function getAsset(pool: Pool, key: AssetKey): Promise<Asset | undefined> {
  const [rows] = await pool.query<Rows>("SELECT * FROM catalog_assets WHERE namespace = ? AND name = ?", [
    key.namespace,
    key.name,
  ]);
  return rows[0] ? assetFromRow(rows[0]) : undefined;
}

/** Every schema version of an asset, oldest first. */
export async function schemaHistory(
  pool: Pool,
  key: AssetKey,
): Promise<Array<{ version: number; fields: AssetSpec["schema"]; createdAt: string }> | undefined> {
  const [rows] = await pool.query<Rows>(
    `SELECT v.version, v.fields, v.created_at FROM catalog_assets a
     JOIN catalog_schema_versions v ON v.asset_pk = a.pk WHERE a.namespace = ? AND a.name = ? ORDER BY v.version`,
    [key.namespace, key.name],
  );
  if (rows.length === 0) return (await getAsset(pool, key)) ? [] : undefined;
  return rows.map((row) => ({
    version: Number(row.version),
    fields: json(row.fields) as AssetSpec["schema"],
    createdAt: (row.created_at as Date).toISOString(),
  }));
}

/** Namespaces that have assets or lineage (the tenants a search may have to check access to). */
export async function catalogNamespaces(pool: Pool): Promise<string[]> {
  const [rows] = await pool.query<Rows>(
    "SELECT namespace FROM catalog_assets UNION SELECT namespace FROM catalog_lineage_nodes",
  );
  return rows.map((row) => String(row.namespace));
}

function json(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function assetFromRow(row: Rows[number]): Asset {
  const spec = json(row.spec) as AssetSpec;
  const asset: Asset = {
    namespace: String(row.namespace),
    name: String(row.name),
    type: String(row.type),
    location: String(row.location),
    owner: String(row.owner),
    description: String(row.description),
    tags: spec.tags,
    schema: spec.schema,
    schemaVersion: Number(row.schema_version),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
  if (row.format) asset.format = String(row.format);
  if (row.versions !== null && row.versions !== undefined)
    asset.versions = json(row.versions) as ModelVersionEntry[];
  return asset;
}

/** What one source registered: every asset whose uid starts with `prefix`, with its spec and versions. */
export async function assetsRegisteredBy(
  pool: Pool,
  prefix: string,
): Promise<Array<AssetKey & { uid: string; spec: AssetSpec; versions: ModelVersionEntry[] | null }>> {
  const [rows] = await pool.query<Rows>(
    "SELECT namespace, name, uid, spec, versions FROM catalog_assets WHERE uid LIKE ?",
    [`${prefix.replace(/[\\%_]/g, "\\$&")}%`],
  );
  return rows.map((row) => ({
    namespace: String(row.namespace),
    name: String(row.name),
    uid: String(row.uid),
    spec: json(row.spec) as AssetSpec,
    versions: row.versions === null ? null : (json(row.versions) as ModelVersionEntry[]),
  }));
}
