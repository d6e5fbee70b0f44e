/**
 * The permissions the admission webhook needs, from how it is configured: the kinds its rules look up,
 * its ValidatingWebhookConfiguration, and (self-managed certificates) the Secret holding them.
 */
import { DarwinRuntime, GROUP, ServeEnvironment } from "../crds/src/index.ts";
import type { PolicyRule, RoleSpec } from "../operator/rbac.ts";

export interface WebhookRbacOptions {
  certificates: {
    mode: "self-managed" | "cert-manager";
    namespace: string;
    serviceName: string;
    secretName?: string | undefined;
  };
  configuration: { manage: "none" | "inject-ca" | "apply"; name: string };
}

/**
 * A ClusterRole for the lookups and the webhook configuration, and (self-managed certificates) a Role for
 * the certificates' Secret in its namespace. Names start with `name`.
 */
export function webhookRoles(name: string, options: WebhookRbacOptions): RoleSpec[] {
  const { certificates, configuration } = options;
  const cluster: PolicyRule[] = [
    // The rules read the runtimes and serve environments a spec names (see validation/context.ts).
    {
      apiGroups: [GROUP],
      resources: [DarwinRuntime.plural, ServeEnvironment.plural],
      verbs: ["get", "list", "watch"],
    },
  ];
  if (configuration.manage !== "none") {
    const admission = "admissionregistration.k8s.io";
    const resources = ["validatingwebhookconfigurations"];
    cluster.push({
      apiGroups: [admission],
      resources,
      verbs: ["get", "patch"],
      resourceNames: [configuration.name],
    });
    // Applying a configuration that does not exist yet creates it; create cannot be limited by name.
    if (configuration.manage === "apply")
      cluster.push({ apiGroups: [admission], resources, verbs: ["create"] });
  }
  const roles: RoleSpec[] = [{ name, rules: cluster }];
  if (certificates.mode === "self-managed") {
    const secret = certificates.secretName ?? `${certificates.serviceName}-tls`;
    roles.push({
      name: `${name}-certificates`,
      namespace: certificates.namespace,
      rules: [
        { apiGroups: [""], resources: ["secrets"], verbs: ["get", "update"], resourceNames: [secret] },
        // The first replica creates the Secret; create cannot be limited by name.
        { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      ],
    });
  }
  return roles;
}
