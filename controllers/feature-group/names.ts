/**
 * Names of a FeatureGroup's stores, derived from its namespace, name and version: the Cassandra keyspace
 * (one per namespace: the namespace is the tenant), the table per version, the Kafka topic per version,
 * and the name the seed's SDK uses for the group.
 *
 * Kubernetes names hold '-' and '.', Cassandra identifiers only [a-z0-9_] (48 characters at most), and the
 * seed's groups are named with '_' (user_features). A Kubernetes name without '.' (an RFC 1123 label)
 * maps to an identifier by turning '-' into '_', which is one-to-one because Kubernetes names cannot
 * hold '_'. Any other name, or one that would be too long, keeps a readable prefix and gains a hash of
 * the whole, so distinct names never share a table.
 */
import { createHash } from "node:crypto";

/** Longest Cassandra keyspace or table name. */
export const CASSANDRA_NAME_MAX = 48;

const hash8 = (source: string) => createHash("sha256").update(source).digest("hex").slice(0, 8);

/** A Cassandra identifier for `name` followed by `suffix`, at most `max` characters. */
function identifier(prefix: string, name: string, suffix: string, max = CASSANDRA_NAME_MAX): string {
  const plain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
  const rewritten = `${prefix}${name.replace(/[^a-z0-9]/g, "_")}`;
  if (plain && rewritten.length + suffix.length <= max) return `${rewritten}${suffix}`;
  const keep = max - suffix.length - 9;
  return `${rewritten.slice(0, keep).replace(/_+$/, "")}_${hash8(name)}${suffix}`;
}

/** The keyspace of a namespace's feature groups: `fs_<namespace>`. */
export function keyspaceName(namespace: string): string {
  return identifier("fs_", namespace, "");
}

/** The table of one version of a group: `<group>_v<version>`, e.g. user_features_v1. */
export function tableName(group: string, version: number): string {
  return identifier("", group, `_v${version}`);
}

/** The pattern of every version's table of a group (for cleanup). */
export function tableVersionPattern(group: string): RegExp {
  const base = tableName(group, 1).slice(0, -"_v1".length);
  return new RegExp(`^${base}_v([0-9]+)$`);
}

/** The Kafka topic of one version of a group: `darwin.features.<namespace>.<group>.v<version>`. */
export function topicName(namespace: string, group: string, version: number): string {
  return `${topicPrefix(namespace, group)}${version}`;
}

/** What every version's topic name of a group starts with (for cleanup). */
export function topicPrefix(namespace: string, group: string): string {
  return `${namespaceTopicPrefix(namespace)}${group}.v`;
}

/** What the topic names of every group of a namespace start with. */
export function namespaceTopicPrefix(namespace: string): string {
  return `darwin.features.${namespace}.`;
}

/**
 * The name the seed's SDK and Feast clients use for a group: its Kubernetes name with '-' written as '_'
 * (user-features is user_features). Either spelling finds the group.
 */
export function sdkGroupName(name: string): string {
  return name.replaceAll("-", "_");
}
