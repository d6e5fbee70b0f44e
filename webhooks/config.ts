/**
 * The `webhook` section of the operator configuration: where the admission server listens, where its
 * certificates come from, and how its ValidatingWebhookConfiguration is kept.
 */
import { z } from "zod";
import { DNS_LABEL } from "../crds/src/index.ts";
import { port } from "../operator/config.ts";

export const webhookConfig = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe("Serve the admission webhooks (on every replica, leader or not)."),
    host: z.string().default("0.0.0.0"),
    port: port("HTTPS port of the admission webhooks").default(9443),
    certificates: z
      .strictObject({
        mode: z
          .enum(["self-managed", "cert-manager"])
          .default("self-managed")
          .describe(
            "self-managed: the operator keeps its own CA and serving certificate in a Secret; cert-manager: read the mounted Secret.",
          ),
        namespace: z
          .string()
          .regex(DNS_LABEL)
          .default("darwin-system")
          .describe("Namespace of the webhook Service and Secret."),
        serviceName: z
          .string()
          .regex(DNS_LABEL)
          .default("darwin-webhook")
          .describe("Service the apiserver calls."),
        secretName: z
          .string()
          .min(1)
          .optional()
          .describe("Secret of the self-managed certificates (default <serviceName>-tls)."),
        directory: z
          .string()
          .min(1)
          .default("/tmp/k8s-webhook-server/serving-certs")
          .describe("cert-manager mode: where the Secret with tls.crt and tls.key is mounted."),
      })
      .prefault({}),
    configuration: z
      .strictObject({
        manage: z
          .enum(["none", "inject-ca", "apply"])
          .default("inject-ca")
          .describe(
            "none: leave the ValidatingWebhookConfiguration alone; inject-ca: keep its caBundle current; apply: apply all of it.",
          ),
        name: z
          .string()
          .min(1)
          .default("darwin-validating-webhook")
          .describe("Name of the ValidatingWebhookConfiguration."),
        url: z
          .url({ protocol: /^https$/ })
          .optional()
          .describe(
            "apply mode: the apiserver calls this URL (e.g. https://127.0.0.1:9443 on the local testbed) instead of the Service.",
          ),
      })
      .prefault({}),
  })
  .prefault({});

export type WebhookConfig = z.infer<typeof webhookConfig>;
