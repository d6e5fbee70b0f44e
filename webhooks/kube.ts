/**
 * What the webhook reads and writes in the API server, through the operator's KubeClient (one client per
 * process; it also waits out a busy apiserver): referenced resources for the rules, the Secret holding
 * its certificates, and the caBundle of its webhook configuration.
 */
import type { V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { z } from "zod";
import { type LookupSource, runtimeRecords, serveEnvironmentRecords } from "../api/validation/context.ts";
import { DarwinRuntime, GROUP, ServeEnvironment, VERSION } from "../crds/src/index.ts";
import { isConflict, isNotFound } from "../operator/api-error.ts";
import { applyObject } from "../operator/apply.ts";
import type { KubeClient, RetryPolicy } from "../operator/kube-client.ts";
import { kubeObject, type ResourceType } from "../operator/resource.ts";
import type { KeyPair } from "./certs/authority.ts";

/**
 * Busy answers (429, or 503 with Retry-After, as while a resource's watch cache initializes just after its
 * CRD changed) are retried for at most about 4.5 s, so an admission request stays well inside the
 * webhook's 10 s timeout.
 */
export const LOOKUP_RETRY: RetryPolicy = { attempts: 4, maxDelayMs: 1500 };

const itemList = z.object({ items: z.array(z.unknown()) });

/** Reads referenced resources straight from the API server on each admission request (always current). */
export function apiLookupSource(client: KubeClient, retry: RetryPolicy = LOOKUP_RETRY): LookupSource {
  const list = async (plural: string): Promise<unknown[]> =>
    itemList.parse(
      await client.request({ method: "GET", path: `/apis/${GROUP}/${VERSION}/${plural}`, retry }),
    ).items;
  return {
    runtimes: async () => runtimeRecords(await list(DarwinRuntime.plural)),
    serveEnvironments: async () => serveEnvironmentRecords(await list(ServeEnvironment.plural)),
  };
}

/** The certificates of the self-managed mode, as one Secret holds them. */
export interface StoredCertificates {
  ca: KeyPair;
  serving: KeyPair;
}

export interface StoredVersion {
  certificates: StoredCertificates | undefined;
  resourceVersion: string;
}

/** The Secret the self-managed mode keeps its CA and serving certificate in. */
export interface CertificateStore {
  /** undefined when the Secret does not exist; `certificates` undefined when it holds none usable. */
  read(): Promise<StoredVersion | undefined>;
  /** Creates the Secret; rejects with `ConflictError` when it exists already. */
  create(certificates: StoredCertificates): Promise<void>;
  /** Replaces the Secret's data if it is still at `resourceVersion`; rejects with `ConflictError` if not. */
  replace(certificates: StoredCertificates, resourceVersion: string): Promise<void>;
}

/** Another writer got there first: read again and reconsider. */
export class ConflictError extends Error {}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const unb64 = (text: string | undefined) =>
  text === undefined ? undefined : Buffer.from(text, "base64").toString("utf8");

const secretData = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  data: z.record(z.string(), z.string()).optional(),
});

export function secretCertificateStore(
  client: KubeClient,
  namespace: string,
  name: string,
): CertificateStore {
  const collection = `/api/v1/namespaces/${namespace}/secrets`;
  const body = (certificates: StoredCertificates, resourceVersion?: string) => ({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/part-of": "darwin", "app.kubernetes.io/component": "webhook" },
      ...(resourceVersion && { resourceVersion }),
    },
    data: {
      "ca.crt": b64(certificates.ca.cert),
      "ca.key": b64(certificates.ca.key),
      "tls.crt": b64(certificates.serving.cert),
      "tls.key": b64(certificates.serving.key),
    },
  });
  const conflict = (error: unknown) => {
    if (isConflict(error)) throw new ConflictError(`Secret ${namespace}/${name} changed meanwhile`);
    throw error;
  };
  return {
    async read() {
      let secret: z.infer<typeof secretData>;
      try {
        secret = secretData.parse(await client.request({ method: "GET", path: `${collection}/${name}` }));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const data = secret.data ?? {};
      const [caCert, caKey, cert, key] = ["ca.crt", "ca.key", "tls.crt", "tls.key"].map((k) =>
        unb64(data[k]),
      );
      const complete = caCert && caKey && cert && key;
      return {
        certificates: complete ? { ca: { cert: caCert, key: caKey }, serving: { cert, key } } : undefined,
        resourceVersion: secret.metadata.resourceVersion ?? "",
      };
    },
    async create(certificates) {
      await client.request({ method: "POST", path: collection, body: body(certificates) }).catch(conflict);
    },
    async replace(certificates, resourceVersion) {
      await client
        .request({ method: "PUT", path: `${collection}/${name}`, body: body(certificates, resourceVersion) })
        .catch(conflict);
    },
  };
}

const VALIDATING_WEBHOOK_CONFIGURATIONS: ResourceType = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingWebhookConfiguration",
  plural: "validatingwebhookconfigurations",
  namespaced: false,
};
const configurationPath = (name: string) =>
  `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`;

const webhookConfiguration = z.looseObject({
  webhooks: z
    .array(
      z.looseObject({ name: z.string(), clientConfig: z.looseObject({ caBundle: z.string().optional() }) }),
    )
    .optional(),
});

/**
 * Writes `caBundle` (PEM) into every webhook of an existing ValidatingWebhookConfiguration, with a JSON patch
 * that tests each webhook's name so a concurrent reordering fails instead of patching the wrong entry.
 * @returns false when the configuration does not exist (yet).
 */
export async function injectCaBundle(client: KubeClient, name: string, caBundle: string): Promise<boolean> {
  let configuration: z.infer<typeof webhookConfiguration>;
  try {
    configuration = webhookConfiguration.parse(
      await client.request({ method: "GET", path: configurationPath(name) }),
    );
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const encoded = b64(caBundle);
  const ops = (configuration.webhooks ?? []).flatMap((webhook, i) =>
    webhook.clientConfig.caBundle === encoded
      ? []
      : [
          { op: "test", path: `/webhooks/${i}/name`, value: webhook.name },
          { op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: encoded },
        ],
  );
  if (ops.length > 0) {
    await client.request({
      method: "PATCH",
      path: configurationPath(name),
      contentType: "application/json-patch+json",
      body: ops,
    });
  }
  return true;
}

/** Creates or updates a whole ValidatingWebhookConfiguration by server-side apply. */
export async function applyWebhookConfiguration(
  client: KubeClient,
  configuration: V1ValidatingWebhookConfiguration,
): Promise<void> {
  await applyObject(client, VALIDATING_WEBHOOK_CONFIGURATIONS, kubeObject.parse(configuration));
}

export async function deleteWebhookConfiguration(client: KubeClient, name: string): Promise<void> {
  await client.request({ method: "DELETE", path: configurationPath(name) }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}
