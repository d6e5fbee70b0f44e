import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { featuresCondition } from "./features.ts";
import { FEATURE_GROUPS, SERVES, servesReadingFeatureGroup } from "./reconciler.ts";

const group = (name: string, ready: "True" | "False" | undefined, servedVersions = [1]): KubeObject => ({
  apiVersion: FEATURE_GROUPS.apiVersion,
  kind: FEATURE_GROUPS.kind,
  metadata: { name, namespace: "serve" },
  spec: {},
  status: {
    servedVersions,
    conditions: ready
      ? [{ type: "Ready", status: ready, reason: "X", message: "Cassandra is unreachable." }]
      : [],
  },
});

const lookupIn =
  (...groups: KubeObject[]) =>
  (name: string) =>
    groups.find((g) => g.metadata.name === name);

describe("FeaturesReady", () => {
  it("is absent when the Serve reads no feature groups", () => {
    expect(featuresCondition([], lookupIn())).toBeUndefined();
  });

  it.each([
    ["a missing group", [], "FeatureGroupNotFound", "FeatureGroup user-features does not exist"],
    [
      "a group that is not Ready, with its reason",
      [group("user-features", "False")],
      "FeatureGroupNotReady",
      "FeatureGroup user-features is not Ready: Cassandra is unreachable.",
    ],
    [
      "a group that has not reported yet",
      [group("user-features", undefined)],
      "FeatureGroupNotReady",
      "FeatureGroup user-features is not Ready.",
    ],
    [
      "a version the group does not serve",
      [group("user-features", "True", [2])],
      "FeatureVersionNotServed",
      "does not serve version 1 (served: 2)",
    ],
  ])("is False for %s, naming the group", (_, groups, reason, message) => {
    const condition = featuresCondition([{ featureGroup: "user-features", version: 1 }], lookupIn(...groups));
    expect(condition).toMatchObject({ type: "FeaturesReady", status: "False", reason });
    expect(condition?.message).toContain(message);
  });

  it("is True when every group is Ready and serves the version read", () => {
    const condition = featuresCondition(
      [{ featureGroup: "user-features", version: 1 }, { featureGroup: "item-features" }],
      lookupIn(group("user-features", "True"), group("item-features", "True", [3])),
    );
    expect(condition).toEqual({
      type: "FeaturesReady",
      status: "True",
      reason: "FeatureGroupsReady",
      message: "Feature groups user-features v1, item-features are Ready.",
    });
  });
});

describe("servesReadingFeatureGroup", () => {
  const serve = (name: string, namespace: string, features: unknown[]): KubeObject => ({
    apiVersion: SERVES.apiVersion,
    kind: SERVES.kind,
    metadata: { name, namespace },
    spec: { features },
  });
  const serves = [
    serve("reads", "serve", [{ featureGroup: "user-features" }]),
    serve("other-group", "serve", [{ featureGroup: "item-features" }]),
    serve("other-namespace", "team-b", [{ featureGroup: "user-features" }]),
    serve("none", "serve", []),
  ];
  const cache = {
    list: (_type: unknown, namespace?: string) =>
      serves.filter((s) => namespace === undefined || s.metadata.namespace === namespace),
  };

  it("wakes only the Serves of the group's namespace that name it", () => {
    expect(servesReadingFeatureGroup(group("user-features", "True"), cache)).toEqual(["serve/reads"]);
  });
});
