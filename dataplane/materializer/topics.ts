/**
 * Which topics the materializer consumes, from the FeatureGroups it sees: every served version of every
 * group that streams (`spec.stream.enabled`) and is kept online (`spec.online.enabled`). A version is
 * consumed once the controller serves it (its table and topic exist); a new group or version joins the set
 * when its status says so, and a deleted group leaves it. Pure.
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
}

export function feedTopics(groups: readonly KubeObject[]): Map<string, TopicTarget> {
  const topics = new Map<string, TopicTarget>();
  for (const object of groups) {
    const namespace = object.metadata.namespace;
    if (!namespace || object.metadata.deletionTimestamp) continue;
    const spec = FeatureGroup.spec.safeParse(object.spec);
    if (!spec.success || !spec.data.stream.enabled || !spec.data.online.enabled) continue;
    const status = FeatureGroup.status.safeParse(object.status ?? {});
    const served = status.success ? (status.data.servedVersions ?? []) : [];
    for (const version of served) {
      topics.set(topicName(namespace, object.metadata.name, version), {
        namespace,
        name: object.metadata.name,
        version,
      });
    }
  }
  return topics;
}

/** Whether two topic sets hold the same topics. */
export function sameTopics(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  return a.size === b.size && [...a.keys()].every((t) => b.has(t));
}
