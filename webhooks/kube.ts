/**
 * What the webhook reads and writes in the API server, on @kubernetes/client-node: referenced resources for
 * the rules, the Secret holding its certificates, and the caBundle of its webhook configuration.
 */
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";
import { type LookupSource, runtimeRecords, serveEnvironmentRecords } from "../api/validation/context.ts";
import { DarwinRuntime, GROUP, ServeEnvironment, VERSION } from "../crds/src/index.ts";
import type { KeyPair } from "./certs/authority.ts";

export const FIELD_MANAGER = "darwin-operator";

/** HTTP status of a failed API call, if it was one. */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** Reads referenced resources straight from the API server on each admission request (always current). */
export function apiLookupSource(kubeConfig: KubeConfig): LookupSource {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const list = async (plural: string): Promise<unknown[]> => {
    const result = (await retryingBusy(() =>
      api.listClusterCustomObject({ group: GROUP, version: VERSION, plural }),
    )) as { items?: unknown[] };
    return result.items ?? [];
  };
  return {
    runtimes: async () => runtimeRecords(await list(DarwinRuntime.plural)),
    serveEnvironments: async () => serveEnvironmentRecords(await list(ServeEnvironment.plural)),
  };
}

/**
 * Calls `request` again when the apiserver answers 429 or 503 with a Retry-After, as it does while the
 * watch cache of a resource (re)initializes, e.g. just after its CRD changed. Waits as told (at most
 * `maxDelayMs` each time) and gives up after `attempts`, so the whole stays well inside the webhook's
 * timeout.
 */
export async function retryingBusy<T>(
  request: () => Promise<T>,
  attempts = 4,
  maxDelayMs = 1500,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      const { code, headers } = error as { code?: number; headers?: Record<string, string> };
      if (attempt >= attempts || (code !== 429 && code !== 503)) throw error;
      const retryAfterSeconds = Number(headers?.["retry-after"]);
      const delayMs =
        Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0 ? retryAfterSeconds * 1000 : 500;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, maxDelayMs)));
    }
  }
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

export function secretCertificateStore(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): CertificateStore {
  const api = kubeConfig.makeApiClient(CoreV1Api);
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
    if (apiStatus(error) === 409) throw new ConflictError(`Secret ${namespace}/${name} changed meanwhile`);
    throw error;
  };
  return {
    async read() {
      try {
        const secret = await api.readNamespacedSecret({ name, namespace });
        const data = secret.data ?? {};
        const [caCert, caKey, cert, key] = ["ca.crt", "ca.key", "tls.crt", "tls.key"].map((k) =>
          unb64(data[k]),
        );
        const complete = caCert && caKey && cert && key;
        return {
          certificates: complete ? { ca: { cert: caCert, key: caKey }, serving: { cert, key } } : undefined,
          resourceVersion: secret.metadata?.resourceVersion ?? "",
        };
      } catch (error) {
        if (apiStatus(error) === 404) return undefined;
        throw error;
      }
    },
    async create(certificates) {
      await api.createNamespacedSecret({ namespace, body: body(certificates) }).catch(conflict);
    },
    async replace(certificates, resourceVersion) {
      await api
        .replaceNamespacedSecret({ name, namespace, body: body(certificates, resourceVersion) })
        .catch(conflict);
    },
  };
}

/**
 * Writes `caBundle` (PEM) into every webhook of an existing ValidatingWebhookConfiguration, with a JSON patch
 * that tests each webhook's name so a concurrent reordering fails instead of patching the wrong entry.
 * @returns false when the configuration does not exist (yet).
 */
export async function injectCaBundle(
  kubeConfig: KubeConfig,
  name: string,
  caBundle: string,
): Promise<boolean> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  let configuration: V1ValidatingWebhookConfiguration;
  try {
    configuration = await api.readValidatingWebhookConfiguration({ name });
  } catch (error) {
    if (apiStatus(error) === 404) return false;
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
    await api.patchValidatingWebhookConfiguration(
      { name, body: ops },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
  }
  return true;
}

/** Creates or updates a whole ValidatingWebhookConfiguration by server-side apply. */
export async function applyWebhookConfiguration(
  kubeConfig: KubeConfig,
  configuration: V1ValidatingWebhookConfiguration,
): Promise<void> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  await api.patchValidatingWebhookConfiguration(
    {
      name: configuration.metadata?.name ?? "",
      body: configuration,
      fieldManager: FIELD_MANAGER,
      force: true,
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  );
}

export async function deleteWebhookConfiguration(kubeConfig: KubeConfig, name: string): Promise<void> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  await api.deleteValidatingWebhookConfiguration({ name }).catch((error: unknown) => {
    if (apiStatus(error) !== 404) throw error;
  });
}
