/**
 * The admission webhook server as a component of the operator process: started on every replica when the
 * configuration's `webhook.enabled` is true, from the `webhook` section (webhooks/config.ts).
 */
import type { OperatorConfig } from "../operator/config.ts";
import type { Component } from "../operator/run.ts";
import type { WebhookConfig } from "./config.ts";

export const webhookComponent: Component<OperatorConfig & { webhook: WebhookConfig }> = async ({
  config: { webhook: config },
  client,
  log,
  metrics,
}) => {
  if (!config.enabled) return undefined;
  // Imported only when enabled: the server, its rules and the certificate authority (@peculiar/x509) are
  // tens of MiB an operator without the webhook does not need.
  const { startWebhookServer } = await import("./start.ts");
  const certs = config.certificates;
  const target = config.configuration.url
    ? { url: config.configuration.url }
    : { service: { namespace: certs.namespace, name: certs.serviceName, port: 443 } };
  return startWebhookServer({
    client,
    host: config.host,
    port: config.port,
    logger: log,
    registry: metrics.registry,
    certificates:
      certs.mode === "cert-manager"
        ? { mode: "cert-manager", directory: certs.directory }
        : {
            mode: "self-managed",
            namespace: certs.namespace,
            serviceName: certs.serviceName,
            ...(certs.secretName && { secretName: certs.secretName }),
          },
    configuration:
      config.configuration.manage === "none"
        ? { manage: "none" }
        : config.configuration.manage === "inject-ca"
          ? { manage: "inject-ca", name: config.configuration.name }
          : { manage: "apply", options: { name: config.configuration.name, target } },
  });
};
