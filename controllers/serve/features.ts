/**
 * The FeaturesReady condition of a Serve with `spec.features`: whether every FeatureGroup it reads exists
 * in its namespace, is Ready and serves the version it names. A warning, not a blocker: the revision
 * already running keeps running and a new one still rolls out (a model can answer without its online
 * features, or the group may be on its way); the condition says which group is missing and why, so
 * `kubectl wait --for=condition=FeaturesReady` and `kubectl describe serve` show it. Pure.
 */
import { z } from "zod";
import type { Condition } from "../../crds/src/index.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { ServeSpec } from "./render/inputs.ts";

export const FEATURES_READY = "FeaturesReady";

export type FeaturesCondition = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

const FeatureGroupView = z.looseObject({
  status: z
    .looseObject({
      servedVersions: z.array(z.number()).optional(),
      conditions: z
        .array(z.looseObject({ type: z.string(), status: z.string(), message: z.string().optional() }))
        .optional(),
    })
    .optional(),
});

/**
 * The condition for the feature groups a Serve reads, found with `lookup` (the cached FeatureGroup of that
 * name in the Serve's namespace); undefined when the Serve reads none. The first group that is not usable
 * is named.
 */
export function featuresCondition(
  features: ServeSpec["features"],
  lookup: (name: string) => KubeObject | undefined,
): FeaturesCondition | undefined {
  if (features.length === 0) return undefined;
  for (const { featureGroup, version } of features) {
    const group = lookup(featureGroup);
    if (!group) {
      return {
        type: FEATURES_READY,
        status: "False",
        reason: "FeatureGroupNotFound",
        message: `FeatureGroup ${featureGroup} does not exist in this namespace; create it (kubectl apply -f <featuregroup>.yaml) or remove it from spec.features. The model's online features are unavailable until then.`,
      };
    }
    const status = FeatureGroupView.safeParse(group).data?.status;
    const ready = status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status !== "True") {
      const why = ready?.message ? `: ${ready.message.replace(/\.$/, "")}` : "";
      return {
        type: FEATURES_READY,
        status: "False",
        reason: "FeatureGroupNotReady",
        message: `FeatureGroup ${featureGroup} is not Ready${why}. The model's online features are unavailable until it is.`,
      };
    }
    if (version !== undefined && !(status?.servedVersions ?? []).includes(version)) {
      return {
        type: FEATURES_READY,
        status: "False",
        reason: "FeatureVersionNotServed",
        message: `FeatureGroup ${featureGroup} does not serve version ${version} (served: ${(status?.servedVersions ?? []).join(", ") || "none"}); set spec.features[].version to a served one.`,
      };
    }
  }
  const names = features.map((f) => (f.version ? `${f.featureGroup} v${f.version}` : f.featureGroup));
  return {
    type: FEATURES_READY,
    status: "True",
    reason: "FeatureGroupsReady",
    message: `Feature groups ${names.join(", ")} are Ready.`,
  };
}
