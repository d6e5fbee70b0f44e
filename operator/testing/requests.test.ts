import { describe, expect, it } from "vitest";
import { collectionLists, isCollectionPath } from "./requests.ts";

describe("isCollectionPath", () => {
  it.each([
    ["/api/v1/pods", true],
    ["/api/v1/namespaces", true],
    ["/api/v1/namespaces/team-a/pods", true],
    ["/apis/ray.io/v1/rayclusters", true],
    ["/apis/darwin.dreamhorizon.org/v1alpha1/namespaces/team-a/darwinclusters", true],
    ["/api/v1/namespaces/team-a", false],
    ["/api/v1/namespaces/team-a/pods/head-0", false],
    ["/apis/ray.io/v1/namespaces/team-a/rayclusters/c/status", false],
    ["/apis/darwin.dreamhorizon.org/v1alpha1/darwinruntimes/ray-2-37", false],
    ["/apis/ray.io/v1", false],
    ["/healthz", false],
  ])("%s: %s", (path, collection) => {
    expect(isCollectionPath(path)).toBe(collection);
  });
});

describe("collectionLists", () => {
  it("keeps the GETs of collections that are not watches", () => {
    const record = (method: "GET" | "PATCH", path: string, watch = false) => ({
      method,
      path,
      watch,
      code: 200,
      seconds: 0,
    });
    const lists = collectionLists([
      record("GET", "/api/v1/namespaces/a/pods"),
      record("GET", "/api/v1/namespaces/a/pods", true),
      record("GET", "/api/v1/namespaces/a/pods/p"),
      record("PATCH", "/api/v1/namespaces/a/pods/p"),
    ]);
    expect(lists.map((r) => [r.path, r.watch])).toEqual([["/api/v1/namespaces/a/pods", false]]);
  });
});
