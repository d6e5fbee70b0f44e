import { describe, expect, it } from "vitest";
import { webhookRoles } from "./rbac.ts";

const certificates = {
  mode: "self-managed" as const,
  namespace: "darwin-system",
  serviceName: "darwin-webhook",
};

describe("webhookRoles", () => {
  it("reads the kinds the rules look up and patches only its own configuration", () => {
    const [cluster] = webhookRoles("wh", {
      certificates,
      configuration: { manage: "inject-ca", name: "vwc" },
    });
    expect(cluster?.namespace).toBeUndefined();
    expect(cluster?.rules).toContainEqual({
      apiGroups: ["darwin.dreamhorizon.org"],
      resources: ["darwinruntimes", "serveenvironments"],
      verbs: ["get", "list", "watch"],
    });
    expect(cluster?.rules).toContainEqual({
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["validatingwebhookconfigurations"],
      verbs: ["get", "patch"],
      resourceNames: ["vwc"],
    });
    expect(cluster?.rules.flatMap((r) => r.verbs)).not.toContain("create");
  });

  it("may create the configuration only when it applies it", () => {
    const [cluster] = webhookRoles("wh", { certificates, configuration: { manage: "apply", name: "vwc" } });
    expect(cluster?.rules).toContainEqual({
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["validatingwebhookconfigurations"],
      verbs: ["create"],
    });
    const [none] = webhookRoles("wh", { certificates, configuration: { manage: "none", name: "vwc" } });
    expect(none?.rules.flatMap((r) => r.resources)).not.toContain("validatingwebhookconfigurations");
  });

  it("keeps its certificates' Secret in a Role of its namespace, and needs none with cert-manager", () => {
    const roles = webhookRoles("wh", { certificates, configuration: { manage: "none", name: "vwc" } });
    expect(roles[1]).toEqual({
      name: "wh-certificates",
      namespace: "darwin-system",
      rules: [
        {
          apiGroups: [""],
          resources: ["secrets"],
          verbs: ["get", "update"],
          resourceNames: ["darwin-webhook-tls"],
        },
        { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      ],
    });
    const certManager = webhookRoles("wh", {
      certificates: { ...certificates, mode: "cert-manager" },
      configuration: { manage: "none", name: "vwc" },
    });
    expect(certManager).toHaveLength(1);
  });
});
