/**
 * Tenancy of the data-plane APIs: a namespace is a tenant, and Kubernetes RBAC says who may do what in it.
 * A request names its namespace, or falls back to the caller's own when the caller is a service account.
 */
import type { FastifyRequest } from "fastify";
import { HttpError, type KubeAuth, type KubeUser } from "../../operator/http/index.ts";

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):[^:]+$/;

/** The namespace of a service account's username; undefined for other users. */
export function serviceAccountNamespace(user: KubeUser): string | undefined {
  return SERVICE_ACCOUNT.exec(user.username)?.[1];
}

/** The namespace a request acts in: the one it names, else the caller's service-account namespace. */
export function requestNamespace(user: KubeUser, named: string | undefined, field: string): string {
  const namespace = named ?? serviceAccountNamespace(user);
  if (!namespace)
    throw new HttpError(
      400,
      "INVALID_REQUEST",
      `${field}: required: user "${user.username}" is not a service account, so name the namespace (tenant) the request is for`,
      field,
    );
  return namespace;
}

/** What a data-plane route may do in a tenant, in RBAC terms (resource in darwin.dreamhorizon.org). */
export interface TenantAccess {
  verb: string;
  resource: string;
}

/** Throws 403 unless the caller may `access` in every namespace of `namespaces`. */
export async function requireAccess(
  auth: KubeAuth,
  request: FastifyRequest,
  access: TenantAccess,
  namespaces: Iterable<string>,
): Promise<void> {
  const user = auth.user(request);
  for (const namespace of new Set(namespaces)) {
    const decision = await auth.authorize(user, { ...access, group: GROUP }, namespace);
    if (!decision.allowed)
      throw new HttpError(
        403,
        "FORBIDDEN",
        `user "${user.username}" may not ${access.verb} ${access.resource}.${GROUP} in namespace "${namespace}"; an RBAC Role bound to the user must grant it`,
      );
  }
}

/** The namespaces of `candidates` in which the caller may `access` (for searches across tenants). */
export async function allowedNamespaces(
  auth: KubeAuth,
  request: FastifyRequest,
  access: TenantAccess,
  candidates: Iterable<string>,
): Promise<string[]> {
  const user = auth.user(request);
  const allowed: string[] = [];
  for (const namespace of new Set(candidates)) {
    const decision = await auth.authorize(user, { ...access, group: GROUP }, namespace);
    if (decision.allowed) allowed.push(namespace);
  }
  return allowed.sort();
}

/** Authentication only (the access check needs the parsed request): the onRequest hook of KubeAuth. */
export function authenticated(auth: KubeAuth): { onRequest: ReturnType<KubeAuth["require"]>["onRequest"] } {
  // The rule is not used by onRequest; access is checked per namespace in the handler.
  const { onRequest } = auth.require({
    verb: "get",
    group: GROUP,
    resource: "-",
    namespace: () => undefined,
  });
  return { onRequest };
}

export const GROUP = "darwin.dreamhorizon.org";
