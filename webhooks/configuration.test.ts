import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { DarwinCluster, DarwinRuntime, KINDS } from "../crds/src/index.ts";
import { renderValidatingWebhookConfiguration } from "./configuration.ts";

describe("renderValidatingWebhookConfiguration", () => {
  it("renders one webhook per kind for an in-cluster Service", () => {
    const configuration = renderValidatingWebhookConfiguration({
      target: { service: { namespace: "darwin-system", name: "darwin-webhook" } },
      caBundle: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
    });
    expect(configuration.webhooks).toHaveLength(KINDS.length);
    expect(stringify(configuration.webhooks?.[1])).toMatchInlineSnapshot(`
      "name: darwinclusters.validate.darwin.dreamhorizon.org
      admissionReviewVersions:
        - v1
      sideEffects: None
      failurePolicy: Fail
      matchPolicy: Equivalent
      timeoutSeconds: 10
      clientConfig:
        service:
          namespace: darwin-system
          name: darwin-webhook
          port: 443
          path: /validate/darwin.dreamhorizon.org/v1alpha1/darwinclusters
        caBundle: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCi4uLgotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==
      rules:
        - apiGroups:
            - darwin.dreamhorizon.org
          apiVersions:
            - v1alpha1
          operations:
            - CREATE
            - UPDATE
          resources:
            - darwinclusters
          scope: Namespaced
      matchConditions:
        - name: spec-changed
          expression: request.operation == 'CREATE' ||
            (!has(object.metadata.deletionTimestamp) && object.spec != oldObject.spec)
      "
    `);
  });

  it("renders URLs for the local testbed, selectors for shared API servers, and the cert-manager annotation", () => {
    const selector = { matchLabels: { "darwin.dreamhorizon.org/webhook-test": "run-1" } };
    const configuration = renderValidatingWebhookConfiguration({
      name: "darwin-test-run-1",
      target: { url: "https://127.0.0.1:9443/" },
      certManagerCertificate: "darwin-system/darwin-webhook",
      kinds: [DarwinRuntime, DarwinCluster],
      namespaceSelector: selector,
      objectSelector: selector,
      failurePolicy: "Ignore",
      timeoutSeconds: 5,
    });
    expect(configuration.metadata).toMatchObject({
      name: "darwin-test-run-1",
      annotations: { "cert-manager.io/inject-ca-from": "darwin-system/darwin-webhook" },
    });
    const [runtime, cluster] = configuration.webhooks ?? [];
    expect(runtime?.clientConfig).toEqual({
      url: "https://127.0.0.1:9443/validate/darwin.dreamhorizon.org/v1alpha1/darwinruntimes",
    });
    // Cluster-scoped kinds ignore namespaceSelector; the objectSelector still limits them.
    expect(runtime?.namespaceSelector).toBeUndefined();
    expect(runtime?.objectSelector).toEqual(selector);
    expect(runtime?.rules?.[0]?.scope).toBe("Cluster");
    expect(cluster?.namespaceSelector).toEqual(selector);
    expect(cluster).toMatchObject({ failurePolicy: "Ignore", timeoutSeconds: 5 });
  });

  it("never sends DELETE or the status subresource", () => {
    for (const webhook of renderValidatingWebhookConfiguration({ target: { url: "https://x" } }).webhooks ??
      []) {
      for (const rule of webhook.rules ?? []) {
        expect(rule.operations).not.toContain("DELETE");
        expect(rule.resources?.some((r) => r.includes("/"))).toBe(false);
      }
    }
  });
});
