import { describe, expect, it } from "vitest";
import { ApiError, forbiddenAction } from "./api-error.ts";

const forbidden = (request: string, message: string) =>
  ApiError.fromResponse(
    403,
    JSON.stringify({ kind: "Status", reason: "Forbidden", code: 403, message }),
    request,
  );

describe("forbiddenAction", () => {
  it("takes verb, resource and namespace from the apiserver's message", () => {
    const err = forbidden(
      "GET /apis/ray.io/v1/namespaces/team-a/rayclusters",
      'rayclusters.ray.io is forbidden: User "system:serviceaccount:ops:darwin" cannot list resource "rayclusters" in API group "ray.io" in the namespace "team-a"',
    );
    expect(forbiddenAction(err)).toBe("list rayclusters.ray.io in namespace team-a");
  });

  it("names core, cluster-scoped resources without a group", () => {
    const err = forbidden(
      "GET /api/v1/namespaces",
      'namespaces is forbidden: User "u" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
    expect(forbiddenAction(err)).toBe("list namespaces");
  });

  it("calls a refused server-side apply of a missing object a create, from the request", () => {
    // What the apiserver answers when patch is allowed but the object would be created: no verb in it.
    const err = forbidden(
      "PATCH /apis/ray.io/v1/namespaces/team-a/rayclusters/housing",
      'rayclusters.ray.io "housing" is forbidden: ',
    );
    expect(forbiddenAction(err)).toBe("create rayclusters.ray.io in namespace team-a");
    const core = forbidden("PATCH /api/v1/namespaces/team-a/services/housing-jupyter", "");
    expect(forbiddenAction(core)).toBe("create services in namespace team-a");
  });
});
