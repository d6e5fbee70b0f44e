/**
 * What the two read routes do, apart from HTTP: find the group and version, check every column and key
 * against its schema (a RequestError names the first problem), read, and shape the answer the seed's way
 * or Feast's way.
 */
import type { Column } from "../../controllers/feature-group/render/cql.ts";
import type {
  FetchFeaturesRequest,
  FetchFeaturesResponse,
  GetOnlineFeaturesRequest,
  GetOnlineFeaturesResponse,
} from "./api.ts";
import { decodeKey, encodeKey } from "./codec.ts";
import { type GroupRegistry, RequestError, type ServedVersion } from "./groups.ts";
import type { FeatureReader, FeatureValue, KeyValue } from "./reader.ts";

/** Feast's event time for a value it has none for (and for entity key columns). */
export const EPOCH = "1970-01-01T00:00:00Z";

const bad = (code: string, message: string) => new RequestError(400, code, message);

/** RFC 3339 in whole seconds, as Feast's server writes event times. */
export function feastTime(date: Date | undefined): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, "Z") : EPOCH;
}

export interface FeatureServiceOptions {
  registry: GroupRegistry;
  /** Reads values from the online store (FeatureReader). */
  reader: Pick<FeatureReader, "read">;
  /** Most keys (rows) one request may read. */
  maxKeys: number;
}

export class FeatureService {
  private readonly options: FeatureServiceOptions;

  constructor(options: FeatureServiceOptions) {
    this.options = options;
  }

  /** The seed SDK's fetch_features. */
  async fetch(namespace: string, request: FetchFeaturesRequest): Promise<FetchFeaturesResponse> {
    const group = await this.options.registry.resolve(namespace, request.feature_group_name, request.version);
    const features = pickFeatures(group, request.feature_columns, "feature_columns");
    const order = keyOrder(group, request.primary_key_names);
    this.checkKeyCount(request.primary_key_values.length, "primary_key_values");
    const keys = request.primary_key_values.map((values, i) => {
      if (values.length !== order.length) {
        throw bad(
          "WRONG_KEY_LENGTH",
          `primary_key_values[${i}] has ${values.length} value(s); expected ${order.length}, one per primary_key_names entry (${request.primary_key_names.join(", ")})`,
        );
      }
      return group.entities.map((entity) => {
        const at = order.indexOf(entity.name);
        return encode(group, entity.name, values[at], `primary_key_values[${i}][${at}]`);
      });
    });
    const read = await this.options.reader.read(group, features, keys);
    return {
      feature_group_name: request.feature_group_name,
      version: group.version,
      feature_columns: features.map((f) => f.name),
      primary_key_names: request.primary_key_names,
      rows: read.map((values, i) => ({
        primary_key_values: order.map((keyName) => {
          const e = group.entities.findIndex((x) => x.name === keyName);
          const entity = group.entities[e];
          const key = keys[i]?.[e];
          return entity && key !== undefined ? decodeKey(entity.type, key) : null;
        }),
        values: values.map((v) => v.value),
        statuses: values.map((v) => v.status),
        event_timestamps: values.map((v) => (v.eventTime ? v.eventTime.toISOString() : null)),
      })),
    };
  }

  /** Feast 0.67's get-online-features. */
  async getOnlineFeatures(
    namespace: string,
    request: GetOnlineFeaturesRequest,
  ): Promise<GetOnlineFeaturesResponse> {
    if (request.feature_service !== undefined) {
      throw bad(
        "FEATURE_SERVICE_UNSUPPORTED",
        "feature_service is not supported: list the features as group:feature in features",
      );
    }
    if (!request.features) throw bad("FEATURES_MISSING", "features is required: list them as group:feature");
    const entityNames = Object.keys(request.entities);
    if (entityNames.length === 0) throw bad("ENTITIES_MISSING", "entities must name at least one key column");
    const rows = request.entities[entityNames[0] as string]?.length ?? 0;
    for (const entity of entityNames) {
      const length = request.entities[entity]?.length ?? 0;
      if (length !== rows) {
        throw bad(
          "WRONG_KEY_LENGTH",
          `entities.${entity} has ${length} value(s) but entities.${entityNames[0]} has ${rows}: every key column needs one value per row`,
        );
      }
    }
    this.checkKeyCount(rows, "entities");

    // Group the references by feature group, keeping the request's order of features.
    const refs = request.features.map((ref, i) => {
      const match = /^([^:]+):([^:]+)$/.exec(ref);
      if (!match) throw bad("BAD_FEATURE_REFERENCE", `features[${i}] "${ref}" is not group:feature`);
      return { ref, group: match[1] as string, feature: match[2] as string, index: i };
    });
    const seen = new Set<string>();
    for (const r of refs) {
      if (seen.has(r.ref)) throw bad("DUPLICATE_COLUMN", `features lists "${r.ref}" twice`);
      seen.add(r.ref);
    }
    const columns: GetOnlineFeaturesResponse["results"] = new Array(refs.length);
    for (const groupName of [...new Set(refs.map((r) => r.group))]) {
      const mine = refs.filter((r) => r.group === groupName);
      const group = await this.options.registry.resolve(namespace, groupName);
      const features = pickFeatures(
        group,
        mine.map((r) => r.feature),
        `features (group ${groupName})`,
      );
      const keys: KeyValue[][] = [];
      for (let row = 0; row < rows; row++) {
        keys.push(
          group.entities.map((entity) => {
            const values = request.entities[entity.name];
            if (!values) {
              throw bad(
                "KEY_MISSING",
                `entities has no ${entity.name}: feature group "${groupName}" is keyed by ${group.entities.map((e) => e.name).join(", ")}`,
              );
            }
            return encode(group, entity.name, values[row], `entities.${entity.name}[${row}]`);
          }),
        );
      }
      const read = await this.options.reader.read(group, features, keys);
      mine.forEach((r, j) => {
        columns[r.index] = column(read.map((values) => values[j]));
      });
    }
    const entityColumns = entityNames.map((entity) => ({
      values: request.entities[entity] ?? [],
      statuses: new Array(rows).fill("PRESENT"),
      event_timestamps: new Array(rows).fill(EPOCH),
    }));
    const featureNames = refs.map((r) =>
      request.full_feature_names ? `${r.group}__${r.feature}` : r.feature,
    );
    return {
      metadata: { feature_names: [...entityNames, ...featureNames] },
      results: [...entityColumns, ...columns],
    };
  }

  private checkKeyCount(count: number, field: string): void {
    if (count > this.options.maxKeys) {
      throw bad(
        "TOO_MANY_KEYS",
        `${field} has ${count} keys; at most ${this.options.maxKeys} per request: split the request`,
      );
    }
  }
}

function column(values: Array<FeatureValue | undefined>): GetOnlineFeaturesResponse["results"][number] {
  return {
    values: values.map((v) => v?.value ?? null),
    statuses: values.map((v) => v?.status ?? "NOT_FOUND"),
    event_timestamps: values.map((v) => feastTime(v?.eventTime)),
  };
}

/** The requested features of a group, in request order; unknown or repeated names are a 400. */
function pickFeatures(group: ServedVersion, names: readonly string[], field: string): Column[] {
  const seen = new Set<string>();
  return names.map((name) => {
    if (seen.has(name)) throw bad("DUPLICATE_COLUMN", `${field} lists "${name}" twice`);
    seen.add(name);
    const feature = group.features.find((f) => f.name === name);
    if (!feature) {
      const hint = group.entities.some((e) => e.name === name)
        ? `"${name}" is an entity key, not a feature`
        : `it has: ${group.features.map((f) => f.name).join(", ")}`;
      throw bad(
        "UNKNOWN_COLUMN",
        `${field}: feature group "${group.name}" version ${group.version} has no feature "${name}" (${hint})`,
      );
    }
    return feature;
  });
}

/** primary_key_names checked against the group's entities: each exactly once. */
function keyOrder(group: ServedVersion, names: readonly string[]): string[] {
  const expected = group.entities.map((e) => e.name);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw bad("DUPLICATE_KEY", `primary_key_names lists "${name}" twice`);
    seen.add(name);
    if (!expected.includes(name)) {
      throw bad(
        "UNKNOWN_KEY",
        `primary_key_names: "${name}" is not an entity key of feature group "${group.name}" (its keys: ${expected.join(", ")})`,
      );
    }
  }
  const missing = expected.filter((e) => !seen.has(e));
  if (missing.length > 0) {
    throw bad(
      "KEY_MISSING",
      `primary_key_names lacks ${missing.join(", ")}: feature group "${group.name}" is keyed by ${expected.join(", ")}`,
    );
  }
  return [...names];
}

function encode(group: ServedVersion, entityName: string, value: unknown, where: string): KeyValue {
  const entity = group.entities.find((e) => e.name === entityName);
  if (!entity) throw bad("UNKNOWN_KEY", `${where}: no entity key ${entityName}`);
  const result = encodeKey(entity.type, value);
  if (!result.ok)
    throw bad("WRONG_KEY_TYPE", `${where} (${entityName}): ${result.problem}, got ${JSON.stringify(value)}`);
  return result.value;
}
