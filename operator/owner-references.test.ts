import { describe, expect, it } from "vitest";
import { controllerOwnerKey, controllerReference } from "./owner-references.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

const ownerType: ResourceType = {
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "ChronosTransformer",
  plural: "chronostransformers",
  namespaced: true,
};
const clusterOwner: ResourceType = {
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "DarwinRuntime",
  plural: "darwinruntimes",
  namespaced: false,
};

const child = (refs: NonNullable<KubeObject["metadata"]["ownerReferences"]>) => ({
  metadata: { name: "c", namespace: "team-a", ownerReferences: refs },
});
const ref = (over: Partial<{ apiVersion: string; kind: string; name: string; controller: boolean }>) => ({
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "ChronosTransformer",
  name: "rule",
  uid: "u1",
  ...over,
});

describe("controllerOwnerKey", () => {
  it.each([
    ["the controller reference of the owner kind", [ref({ controller: true })], "team-a/rule"],
    [
      "another version of the same group",
      [ref({ controller: true, apiVersion: "darwin.dreamhorizon.org/v1" })],
      "team-a/rule",
    ],
    ["a non-controller reference", [ref({ controller: false })], undefined],
    ["no controller flag", [ref({})], undefined],
    ["another kind", [ref({ controller: true, kind: "Serve" })], undefined],
    ["another group", [ref({ controller: true, apiVersion: "other.io/v1alpha1" })], undefined],
    [
      "the controller among other owners",
      [ref({ name: "x" }), ref({ controller: true, name: "y" })],
      "team-a/y",
    ],
    ["no owners", [], undefined],
  ])("maps %s", (_what, refs, expected) => {
    expect(controllerOwnerKey(child(refs), ownerType)).toBe(expected);
  });

  it("keys a cluster-scoped owner by name alone", () => {
    const refs = [ref({ controller: true, kind: "DarwinRuntime", name: "ray-2.9" })];
    expect(controllerOwnerKey(child(refs), clusterOwner)).toBe("ray-2.9");
  });
});

describe("controllerReference", () => {
  it("marks the owner as controller and blocks its deletion until the child is gone", () => {
    const owner = {
      apiVersion: ownerType.apiVersion,
      kind: ownerType.kind,
      metadata: { name: "rule", namespace: "team-a", uid: "u1" },
    };
    expect(controllerReference(owner)).toEqual({
      apiVersion: ownerType.apiVersion,
      kind: "ChronosTransformer",
      name: "rule",
      uid: "u1",
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(() => controllerReference({ ...owner, metadata: { name: "x" } })).toThrow(/no uid/);
  });
});
