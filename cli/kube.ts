/**
 * hermes's access to the cluster: the operator's KubeClient with the configured kubeconfig and context,
 * reading and writing Darwin's custom resources only.
 */
import { API_VERSION } from "../crds/src/index.ts";
import { ApiError } from "../operator/api-error.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { hasCredentials, type KubeAccess, loadKubeAccess } from "../operator/kubeconfig.ts";
import type { KubeObject } from "../operator/resource.ts";
import type { HermesConfig } from "./config.ts";

export const FIELD_MANAGER = "hermes";

export interface Kind {
  plural: string;
  namespaced: boolean;
}
export const SERVES: Kind = { plural: "serves", namespaced: true };
export const SERVE_ENVIRONMENTS: Kind = { plural: "serveenvironments", namespaced: false };
export const DARWIN_CLUSTERS: Kind = { plural: "darwinclusters", namespaced: true };
export const DARWIN_JOBS: Kind = { plural: "darwinjobs", namespaced: true };
export const ARTIFACT_BUILDS: Kind = { plural: "artifactbuilds", namespaced: true };

/**
 * A client from the kubeconfig (flag, saved, $KUBECONFIG or ~/.kube/config) and context. The user token
 * authenticates only when the kubeconfig's user carries no credentials of its own.
 */
export function connect(config: HermesConfig, token: string | undefined, env = process.env): KubeClient {
  return new KubeClient(loadKubeAccessFor(config, token, env), "hermes");
}

/** The access `connect` uses: the kubeconfig's, with the token when its user had no credentials. */
export function loadKubeAccessFor(
  config: HermesConfig,
  token: string | undefined,
  env = process.env,
): KubeAccess {
  const access = loadKubeAccess({ kubeconfig: config.kubeconfig, context: config.context, env });
  return token && !hasCredentials(access) ? { ...access, token: { type: "static", token } } : access;
}

export function resourcePath(kind: Kind, namespace: string | undefined, name?: string): string {
  const scope = kind.namespaced ? `/namespaces/${namespace}` : "";
  return `/apis/${API_VERSION}${scope}/${kind.plural}${name ? `/${name}` : ""}`;
}

export async function getResource(
  client: KubeClient,
  kind: Kind,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await client.requestObject({ method: "GET", path: resourcePath(kind, namespace, name) });
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

export async function listResources(
  client: KubeClient,
  kind: Kind,
  namespace: string | undefined,
): Promise<KubeObject[]> {
  const path =
    namespace === undefined && kind.namespaced
      ? `/apis/${API_VERSION}/${kind.plural}`
      : resourcePath(kind, namespace);
  const list = (await client.request({ method: "GET", path })) as { items?: KubeObject[] };
  return list.items ?? [];
}

/** Server-side apply as hermes: the object is the whole of what hermes wants of it. */
export function applyResource(client: KubeClient, kind: Kind, object: KubeObject): Promise<KubeObject> {
  return client.requestObject({
    method: "PATCH",
    path: resourcePath(kind, object.metadata.namespace, object.metadata.name),
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: object,
  });
}

export function mergePatch(
  client: KubeClient,
  kind: Kind,
  namespace: string | undefined,
  name: string,
  patch: unknown,
) {
  return client.requestObject({
    method: "PATCH",
    path: resourcePath(kind, namespace, name),
    query: { fieldManager: FIELD_MANAGER },
    contentType: "application/merge-patch+json",
    body: patch,
  });
}
