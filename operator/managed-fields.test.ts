import { describe, expect, it } from "vitest";
import { extractApplied, isApplied } from "./managed-fields.ts";
import type { KubeObject } from "./resource.ts";

const owner = {
  apiVersion: "darwin.dreamhorizon.org/v1alpha1",
  kind: "ChronosTransformer",
  name: "rule",
  uid: "u-1",
  controller: true,
  blockOwnerDeletion: true,
};

// A Deployment as the apiserver returns it after `darwin-operator` applied desired() and kubectl changed
// the replicas: server defaults and another manager's fields are in the object too.
const live: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "team-a",
    uid: "d-1",
    resourceVersion: "42",
    labels: { app: "web", "added-by": "someone-else" },
    ownerReferences: [owner],
    managedFields: [
      {
        manager: "darwin-operator",
        operation: "Apply",
        apiVersion: "apps/v1",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": {
            "f:labels": { "f:app": {} },
            "f:ownerReferences": { 'k:{"uid":"u-1"}': {} },
          },
          "f:spec": {
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"app"}': { ".": {}, "f:args": {}, "f:image": {}, "f:name": {} },
                },
              },
            },
          },
        },
      },
      {
        manager: "kubectl",
        operation: "Update",
        apiVersion: "apps/v1",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:metadata": { "f:labels": { "f:added-by": {} } }, "f:spec": { "f:replicas": {} } },
      },
    ],
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          { name: "app", image: "web:1", args: ["--port", "80"], imagePullPolicy: "IfNotPresent" },
          { name: "sidecar", image: "injected:1" },
        ],
        restartPolicy: "Always",
      },
    },
  },
  status: { replicas: 3 },
};

const desired = (image = "web:1", labels: Record<string, string> = { app: "web" }): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "team-a", labels, ownerReferences: [owner] },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "app", image, args: ["--port", "80"] }] },
    },
  },
});

describe("extractApplied", () => {
  it("returns only the fields the manager applied, with their live values", () => {
    expect(extractApplied(live, "darwin-operator", "apps/v1")).toEqual({
      metadata: { labels: { app: "web" }, ownerReferences: [owner] },
      spec: desired().spec,
    });
  });

  it("is undefined for a manager that never applied, or another apiVersion", () => {
    expect(extractApplied(live, "kubectl", "apps/v1")).toBeUndefined();
    expect(extractApplied(live, "darwin-operator", "apps/v2")).toBeUndefined();
  });
});

describe("isApplied", () => {
  it("holds for the same desired object despite defaults and other managers' fields", () => {
    expect(isApplied(live, desired(), "darwin-operator")).toBe(true);
  });

  it("fails when a value changed", () => {
    expect(isApplied(live, desired("web:2"), "darwin-operator")).toBe(false);
  });

  it("fails when a field was added", () => {
    expect(isApplied(live, desired("web:1", { app: "web", tier: "api" }), "darwin-operator")).toBe(false);
  });

  it("fails when the manager stopped applying a field (an apply would remove it)", () => {
    expect(isApplied(live, desired("web:1", {}), "darwin-operator")).toBe(false);
  });
});
