/**
 * Which topics the materializer consumes, from the FeatureGroups it sees: every served version of every
 * group that streams (`spec.stream.enabled`) and is kept online (`spec.online.enabled`); with an offline
 * store, also the current version of every streaming group kept offline only, once it is Ready (its topic
 * made; it has no table, hence no older served versions). A version is consumed once the controller serves
 * it; a new group or version joins the set when its status says so, and a deleted group leaves it. Pure.
 */
import { topicName } from "../../controllers/feature-group/names.ts";
import { FeatureGroup } from "../../crds/src/index.ts";
import type { KubeObject } from "../../operator/resource.ts";

/** The group version a topic feeds. */
export interface TopicTarget {
  namespace: string;
  /** Kubernetes name of the FeatureGroup. */
  name: string;
  version: number;
  /** Whether the group keeps an online table; false: its rows go to the offline store only. */
  online: boolean;
}

export function feedTopics(
  groups: readonly KubeObject[],
  options: { offlineStore: boolean },
): Map<string, TopicTarget> {
  const topics = new Map<string, TopicTarget>();
  for (const object of groups) {
    const namespace = object.metadata.namespace;
    if (!namespace || object.metadata.deletionTimestamp) continue;
    const spec = FeatureGroup.spec.safeParse(object.spec);
    if (!spec.success || !spec.data.stream.enabled) continue;
    const online = spec.data.online.enabled;
    // Rows of a group kept offline only would reach no store without the offline one: left on the topic.
    if (!online && !options.offlineStore) continue;
    const status = FeatureGroup.status.safeParse(object.status ?? {});
    const ready =
      status.success && status.data.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const served = online
      ? status.success
        ? (status.data.servedVersions ?? [])
        : []
      : ready
        ? [spec.data.version]
        : [];
    for (const version of served) {
      topics.set(topicName(namespace, object.metadata.name, version), {
        namespace,
        name: object.metadata.name,
        version,
        online,
      });
    }
  }
  return topics;
}

/** Whether two topic sets hold the same topics. */
export function sameTopics(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  return a.size === b.size && [...a.keys()].every((t) => b.has(t));
}
