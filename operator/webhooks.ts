/** Maps the operator's webhook configuration onto the admission server of webhooks/. */
import { startWebhookServer } from "../webhooks/index.ts";
import type { StartWebhooks } from "./run.ts";

export const startWebhooks: StartWebhooks = ({ config, client, log, metrics }) => {
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
