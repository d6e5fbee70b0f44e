import { describe, expect, it } from "vitest";
import type { ControllerDefinition } from "./controller.ts";
import { controllerRules, mergeRules, operatorRoles, renderRole } from "./rbac.ts";
import type { ResourceType } from "./resource.ts";

const WIDGETS: ResourceType = {
  apiVersion: "example.org/v1",
  kind: "Widget",
  plural: "widgets",
  namespaced: true,
};
const GADGETS: ResourceType = {
  apiVersion: "example.org/v1",
  kind: "Gadget",
  plural: "gadgets",
  namespaced: false,
};
const DEPLOYMENTS: ResourceType = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
};
const SERVICES: ResourceType = { apiVersion: "v1", kind: "Service", plural: "services", namespaced: true };

function controller(extra: Partial<ControllerDefinition> = {}): ControllerDefinition {
  return { name: "widget", for: WIDGETS, reconcile: async () => undefined, ...extra };
}

describe("controllerRules", () => {
  it("grants the reconciled kind what the runtime does with it, and nothing else", () => {
    expect(controllerRules(controller())).toEqual([
      { apiGroups: ["example.org"], resources: ["widgets"], verbs: ["get", "list", "patch", "watch"] },
      { apiGroups: ["example.org"], resources: ["widgets/finalizers"], verbs: ["update"] },
      { apiGroups: ["example.org"], resources: ["widgets/status"], verbs: ["patch"] },
    ]);
  });

  it("lets owned kinds be created, applied and deleted, and watched kinds only be read", () => {
    const rules = controllerRules(
      controller({ owns: [DEPLOYMENTS, SERVICES], watches: [{ type: GADGETS, map: () => [] }] }),
    );
    expect(rules).toContainEqual({
      apiGroups: ["apps"],
      resources: ["deployments"],
      verbs: ["create", "delete", "get", "list", "patch", "watch"],
    });
    expect(rules).toContainEqual({
      apiGroups: [""],
      resources: ["services"],
      verbs: ["create", "delete", "get", "list", "patch", "watch"],
    });
    expect(rules).toContainEqual({
      apiGroups: ["example.org"],
      resources: ["gadgets"],
      verbs: ["get", "list", "watch"],
    });
  });

  it("adds what the controller declares, merged with the derived rules", () => {
    const rules = controllerRules(
      controller({
        watches: [{ type: GADGETS, map: () => [] }],
        rbac: [
          { apiGroups: ["example.org"], resources: ["gadgets"], verbs: ["update"] },
          { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["widget-key"] },
        ],
      }),
    );
    expect(rules).toContainEqual({
      apiGroups: ["example.org"],
      resources: ["gadgets"],
      verbs: ["get", "list", "update", "watch"],
    });
    expect(rules).toContainEqual({
      apiGroups: [""],
      resources: ["secrets"],
      verbs: ["get"],
      resourceNames: ["widget-key"],
    });
  });
});

describe("mergeRules", () => {
  it("folds resources with the same group and verbs into one rule, and keeps names apart", () => {
    expect(
      mergeRules([
        { apiGroups: [""], resources: ["services"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["list", "get"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["one"] },
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
      ]),
    ).toEqual([
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["one"] },
      { apiGroups: [""], resources: ["configmaps", "services"], verbs: ["get", "list"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
    ]);
  });

  it("gives the same output whatever the order of its input", () => {
    const rules = controllerRules(controller({ owns: [DEPLOYMENTS, SERVICES] }));
    expect(mergeRules([...rules].reverse())).toEqual(rules);
  });
});

describe("operatorRoles", () => {
  it("puts every controller and the Events into a ClusterRole and the Lease into a Role in its namespace", () => {
    const roles = operatorRoles({
      name: "op",
      controllers: [controller(), controller({ name: "gadget", for: GADGETS })],
      leaseNamespace: "op-system",
    });
    expect(roles.map((r) => [r.name, r.namespace])).toEqual([
      ["op", undefined],
      ["op-leader-election", "op-system"],
    ]);
    const clusterResources = roles[0]?.rules.flatMap((r) => r.resources);
    expect(clusterResources).toEqual(expect.arrayContaining(["widgets", "gadgets/status", "events"]));
    expect(roles[1]?.rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] },
    ]);
  });
});

describe("renderRole", () => {
  const account = { name: "op", namespace: "op-system" };
  it("binds a ClusterRole with a ClusterRoleBinding and a Role with a RoleBinding in its namespace", () => {
    const [clusterRole, clusterBinding] = renderRole({ name: "op", rules: [] }, account);
    expect(clusterRole.kind).toBe("ClusterRole");
    expect(clusterBinding).toMatchObject({
      kind: "ClusterRoleBinding",
      roleRef: { kind: "ClusterRole", name: "op" },
      subjects: [{ kind: "ServiceAccount", name: "op", namespace: "op-system" }],
    });
    const [role, binding] = renderRole({ name: "lease", namespace: "op-system", rules: [] }, account);
    expect(role).toMatchObject({ kind: "Role", metadata: { name: "lease", namespace: "op-system" } });
    expect(binding).toMatchObject({ kind: "RoleBinding", roleRef: { kind: "Role", name: "lease" } });
  });
});
