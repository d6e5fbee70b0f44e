/**
 * The feature groups the server answers for, from the FeatureGroup informer's cache (never the apiserver
 * per request). A group is found by its Kubernetes name or the SDK's spelling with '_' (user_features);
 * the current version's schema is its spec, an older served version's schema is its table's (read once
 * from Cassandra's system_schema and cached: an old version's table no longer changes).
 */
import type { Client as CassandraClient } from "cassandra-driver";
import { keyspaceName, sdkGroupName, tableName } from "../../controllers/feature-group/names.ts";
import { type Column, CQL_TYPES, type FeatureType } from "../../controllers/feature-group/render/cql.ts";
import { FeatureGroup } from "../../crds/src/index.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { KeyType } from "./codec.ts";

/** A request the server cannot answer: HTTP status, a stable code and a message naming the problem. */
export class RequestError extends Error {
  readonly statusCode: number;
  readonly code: string;
  /** Seconds, for 503s. */
  readonly retryAfter: number | undefined;

  constructor(statusCode: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = "RequestError";
    this.statusCode = statusCode;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** One servable version of a group. */
export interface ServedVersion {
  namespace: string;
  /** Kubernetes name. */
  name: string;
  version: number;
  keyspace: string;
  table: string;
  entities: Array<{ name: string; type: KeyType }>;
  features: Column[];
  ttlSeconds: number;
  /** Whether the group keeps an online table (spec.online.enabled); false: offline store only. */
  online: boolean;
}

/** Reads a table's columns: name, CQL type, and whether (and where) it is in the partition key. */
export type TableColumnsReader = (
  keyspace: string,
  table: string,
) => Promise<Array<{ name: string; type: string; kind: string; position: number }>>;

/** A TableColumnsReader on Cassandra's system_schema. */
export function cassandraTableColumns(cassandra: CassandraClient): TableColumnsReader {
  return async (keyspace, table) => {
    const result = await cassandra.execute(
      "SELECT column_name, type, kind, position FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
      [keyspace, table],
      { prepare: true },
    );
    return result.rows.map((row) => ({
      name: String(row.get("column_name")),
      type: String(row.get("type")),
      kind: String(row.get("kind")),
      position: Number(row.get("position")),
    }));
  };
}

const FEATURE_TYPE_OF_CQL = new Map(
  Object.entries(CQL_TYPES).map(([feature, cql]) => [cql.replaceAll(" ", ""), feature as FeatureType]),
);

export interface GroupSource {
  /** Cached FeatureGroups of a namespace. */
  list(namespace: string): KubeObject[];
  get(namespace: string, name: string): KubeObject | undefined;
}

/** A cached FeatureGroup's spec and status, each parsed or the reason it does not parse. */
export interface ParsedGroup {
  spec: ReturnType<typeof FeatureGroup.spec.safeParse>;
  status: ReturnType<typeof FeatureGroup.status.safeParse>;
}

export class GroupRegistry {
  private readonly source: GroupSource;
  private readonly readColumns: TableColumnsReader;
  private readonly oldSchemas = new Map<string, Promise<ServedVersion>>();
  /** Parsed once per cached object: the informer replaces an object when it changes, never edits it. */
  private readonly parsedGroups = new WeakMap<KubeObject, ParsedGroup>();

  constructor(source: GroupSource, readColumns: TableColumnsReader) {
    this.source = source;
    this.readColumns = readColumns;
  }

  /** The FeatureGroup named `name` (Kubernetes or SDK spelling) in `namespace`, or undefined. */
  find(namespace: string, name: string): KubeObject | undefined {
    return (
      this.source.get(namespace, name) ??
      this.source
        .list(namespace)
        .find((g) => g.metadata.name === name || sdkGroupName(g.metadata.name) === name)
    );
  }

  /** The spec and status of a FeatureGroup from the cache. */
  parsed(object: KubeObject): ParsedGroup {
    let parsed = this.parsedGroups.get(object);
    if (!parsed) {
      parsed = {
        spec: FeatureGroup.spec.safeParse(object.spec),
        status: FeatureGroup.status.safeParse(object.status ?? {}),
      };
      this.parsedGroups.set(object, parsed);
    }
    return parsed;
  }

  /**
   * The version of a group a request reads or writes; a RequestError says why there is none. Online reads
   * need the online table (`needs: "online"`, the default); pushes, materialization and training sets also
   * take a group with `spec.online.enabled: false` (`needs: "any"`), whose current version is served once
   * the group is Ready (its topic made): it has no table, so no older version is.
   */
  async resolve(
    namespace: string,
    name: string,
    version?: number,
    needs: "online" | "any" = "online",
  ): Promise<ServedVersion> {
    const object = this.find(namespace, name);
    if (!object) {
      throw new RequestError(
        404,
        "GROUP_NOT_FOUND",
        `feature group "${name}" does not exist in namespace "${namespace}" (kubectl get featuregroups -n ${namespace})`,
      );
    }
    const { spec, status } = this.parsed(object);
    if (!spec.success) {
      throw new RequestError(503, "GROUP_INVALID", `feature group "${name}" has an invalid spec`, 30);
    }
    const online = spec.data.online.enabled;
    if (!online && needs === "online") {
      throw new RequestError(
        404,
        "GROUP_NOT_ONLINE",
        `feature group "${name}" is not served online (spec.online.enabled is false)`,
      );
    }
    // A status without servedVersions (written by an operator, or stored under a CRD, from before that
    // field) serves the current version once the group is Ready.
    const ready =
      status.success && status.data.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const served = !online
      ? ready
        ? [spec.data.version]
        : []
      : ((status.success ? status.data.servedVersions : undefined) ?? (ready ? [spec.data.version] : []));
    const wanted = version ?? spec.data.version;
    if (!served.includes(wanted)) {
      if (version !== undefined && version !== spec.data.version) {
        throw new RequestError(
          404,
          "VERSION_NOT_SERVED",
          `version ${version} of feature group "${name}" is not served; served versions: ${served.join(", ") || "none yet"}`,
        );
      }
      throw new RequestError(
        503,
        "GROUP_NOT_READY",
        `version ${wanted} of feature group "${name}" is not ready yet (kubectl describe featuregroup ${object.metadata.name} -n ${namespace})`,
        5,
      );
    }
    const keyspace = keyspaceName(namespace);
    const table = tableName(object.metadata.name, wanted);
    const base = { namespace, name: object.metadata.name, version: wanted, keyspace, table, online };
    if (wanted === spec.data.version) {
      return {
        ...base,
        entities: spec.data.entities,
        features: spec.data.features,
        ttlSeconds: spec.data.ttlSeconds,
      };
    }
    const key = `${keyspace}.${table}`;
    let old = this.oldSchemas.get(key);
    if (!old) {
      old = this.readOldSchema(base, spec.data.ttlSeconds);
      this.oldSchemas.set(key, old);
      old.catch(() => this.oldSchemas.delete(key));
    }
    return old;
  }

  private async readOldSchema(
    base: Omit<ServedVersion, "entities" | "features" | "ttlSeconds">,
    ttlSeconds: number,
  ): Promise<ServedVersion> {
    let columns: Awaited<ReturnType<TableColumnsReader>>;
    try {
      columns = await this.readColumns(base.keyspace, base.table);
    } catch (err) {
      throw new RequestError(
        503,
        "STORE_UNAVAILABLE",
        `the schema of version ${base.version} of "${base.name}" could not be read from Cassandra: ${(err as Error).message}`,
        2,
      );
    }
    if (columns.length === 0) {
      throw new RequestError(
        503,
        "GROUP_NOT_READY",
        `the table ${base.keyspace}.${base.table} of version ${base.version} of "${base.name}" does not exist`,
        5,
      );
    }
    const typed = (c: { name: string; type: string }) => {
      const type = FEATURE_TYPE_OF_CQL.get(c.type.replaceAll(" ", ""));
      if (!type)
        throw new Error(`column ${c.name} of ${base.keyspace}.${base.table} has an unknown type ${c.type}`);
      return { name: c.name, type };
    };
    const entities = columns
      .filter((c) => c.kind === "partition_key")
      .sort((a, b) => a.position - b.position)
      .map((c) => typed(c) as { name: string; type: KeyType });
    const features = columns.filter((c) => c.kind === "regular" && c.name !== "event_time").map(typed);
    return { ...base, entities, features, ttlSeconds };
  }
}
