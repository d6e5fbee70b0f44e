/**
 * The ValidatingWebhookConfiguration that sends Darwin's kinds to the webhook (pure). One webhook entry per
 * kind, so a slow or failing rule set of one kind never touches another, and the API server's metrics and
 * errors name the kind.
 */
import type { V1LabelSelector, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { GROUP, KINDS, type KindDefinition, VERSION } from "../crds/src/index.ts";
import { validatePath } from "./app.ts";

export const DEFAULT_CONFIGURATION_NAME = "darwin-validating-webhook";

/** Only calls that could change what a rule judges reach the webhook; see README "What the API server sends". */
export const MATCH_CONDITIONS = [
  {
    name: "spec-changed",
    // Metadata-only updates (finalizers, labels) and updates of objects being deleted skip the webhook, so
    // they keep working while it is down.
    expression:
      "request.operation == 'CREATE' || (!has(object.metadata.deletionTimestamp) && object.spec != oldObject.spec)",
  },
];

export type WebhookTarget =
  | { service: { namespace: string; name: string; port?: number } }
  /** A URL the API server reaches directly, e.g. https://127.0.0.1:9443 for the local testbed. */
  | { url: string };

export interface WebhookConfigurationOptions {
  /** @default "darwin-validating-webhook" */
  name?: string;
  target: WebhookTarget;
  /** PEM bundle of the CA that signed the serving certificate; omit when cert-manager injects it. */
  caBundle?: string;
  /**
   * `namespace/name` of the cert-manager Certificate whose CA cert-manager's ca-injector copies into
   * every caBundle (the cert-manager mode).
   */
  certManagerCertificate?: string;
  /** @default "Fail" (see webhooks/README.md) */
  failurePolicy?: "Fail" | "Ignore";
  /** @default 10 */
  timeoutSeconds?: number;
  /** Limits the namespaced kinds to matching namespaces. @default every namespace */
  namespaceSelector?: V1LabelSelector;
  /** Limits every kind to matching objects (labels). @default every object */
  objectSelector?: V1LabelSelector;
  /** @default every Darwin kind */
  kinds?: readonly KindDefinition[];
  labels?: Record<string, string>;
}

/** Name of a kind's webhook entry: `darwinclusters.validate.darwin.dreamhorizon.org`. */
export const webhookName = (kind: KindDefinition): string => `${kind.plural}.validate.${GROUP}`;

export function renderValidatingWebhookConfiguration(
  options: WebhookConfigurationOptions,
): V1ValidatingWebhookConfiguration {
  const kinds = options.kinds ?? KINDS;
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: {
      name: options.name ?? DEFAULT_CONFIGURATION_NAME,
      labels: {
        "app.kubernetes.io/part-of": "darwin",
        "app.kubernetes.io/component": "webhook",
        ...options.labels,
      },
      ...(options.certManagerCertificate && {
        annotations: { "cert-manager.io/inject-ca-from": options.certManagerCertificate },
      }),
    },
    webhooks: kinds.map((kind) => ({
      name: webhookName(kind),
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      failurePolicy: options.failurePolicy ?? "Fail",
      matchPolicy: "Equivalent",
      timeoutSeconds: options.timeoutSeconds ?? 10,
      clientConfig: clientConfig(options, kind),
      rules: [
        {
          apiGroups: [GROUP],
          apiVersions: [VERSION],
          // Not DELETE: nothing a rule checks can be broken by deleting. Not "<plural>/status": status is the
          // operator's to write.
          operations: ["CREATE", "UPDATE"],
          resources: [kind.plural],
          scope: kind.scope,
        },
      ],
      matchConditions: MATCH_CONDITIONS,
      ...(options.namespaceSelector &&
        kind.scope === "Namespaced" && { namespaceSelector: options.namespaceSelector }),
      ...(options.objectSelector && { objectSelector: options.objectSelector }),
    })),
  };
}

function clientConfig(options: WebhookConfigurationOptions, kind: KindDefinition) {
  const caBundle = options.caBundle ? Buffer.from(options.caBundle).toString("base64") : undefined;
  const path = validatePath(kind.plural);
  const target =
    "url" in options.target
      ? { url: `${options.target.url.replace(/\/$/, "")}${path}` }
      : { service: { ...options.target.service, port: options.target.service.port ?? 443, path } };
  return { ...target, ...(caBundle && { caBundle }) };
}
