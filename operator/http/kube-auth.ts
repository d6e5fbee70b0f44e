/**
 * Bearer-token authentication and authorization by the Kubernetes API, for data-plane routes: the token is
 * checked with a TokenReview, then a SubjectAccessReview asks whether that user may do a verb on a resource
 * in the namespace the request touches (the tenant). There is no user database: RBAC Roles and
 * RoleBindings decide. Answers are kept briefly in a bounded LRU, like the apiserver's own webhook token
 * cache, so a burst of requests costs one review. The process's identity needs `create` on tokenreviews and
 * subjectaccessreviews (the `system:auth-delegator` ClusterRole).
 */
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import type { KubeClient } from "../kube-client.ts";
import { HttpError } from "./errors.ts";

/** Who a token belongs to, as the apiserver's TokenReview says. */
export interface KubeUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a route does, in RBAC terms; `namespace` picks the tenant out of the (validated) request. */
export interface AccessRule {
  verb: string;
  /** API group, "" for the core group. */
  group: string;
  /** Plural resource name, e.g. `featuregroups`. */
  resource: string;
  subresource?: string;
  /** The namespace the request reads or writes; undefined checks access in every namespace. */
  namespace: (request: FastifyRequest) => string | undefined;
  /** The object's name, when the request is about one object. */
  name?: (request: FastifyRequest) => string | undefined;
}

export interface KubeAuthOptions {
  client: KubeClient;
  /** How long a token's review and an access decision are reused. @default 10 s */
  cacheTtlMs?: number;
  /** Entries kept in each cache; the least recently used go first. @default 10000 */
  cacheMaxEntries?: number;
  /** Audiences the token must be issued for; @default the apiserver's own */
  audiences?: string[];
}

type Authentication = { user: KubeUser } | { rejected: string };
interface Decision {
  allowed: boolean;
  reason: string;
}

const TokenReviewAnswer = z.looseObject({
  status: z
    .looseObject({
      authenticated: z.boolean().optional(),
      user: z
        .looseObject({
          username: z.string().optional(),
          uid: z.string().optional(),
          groups: z.array(z.string()).optional(),
          extra: z.record(z.string(), z.array(z.string())).optional(),
        })
        .optional(),
      error: z.string().optional(),
    })
    .optional(),
});

const AccessReviewAnswer = z.looseObject({
  status: z
    .looseObject({
      allowed: z.boolean(),
      denied: z.boolean().optional(),
      reason: z.string().optional(),
      evaluationError: z.string().optional(),
    })
    .optional(),
});

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export class KubeAuth {
  private readonly client: KubeClient;
  private readonly audiences: string[] | undefined;
  private readonly tokens: LRUCache<string, Promise<Authentication>>;
  private readonly decisions: LRUCache<string, Promise<Decision>>;
  private readonly users = new WeakMap<FastifyRequest, KubeUser>();

  constructor(options: KubeAuthOptions) {
    this.client = options.client;
    this.audiences = options.audiences;
    const cache = { max: options.cacheMaxEntries ?? 10_000, ttl: options.cacheTtlMs ?? 10_000 };
    this.tokens = new LRUCache(cache);
    this.decisions = new LRUCache(cache);
  }

  /**
   * Route hooks for `rule`: spread them into the route options. The token is checked on request (before
   * the body is read), access once the request is validated (the namespace may come from the body).
   */
  require(rule: AccessRule): {
    onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  } {
    return {
      onRequest: async (request, reply) => {
        const token = BEARER.exec(request.headers.authorization ?? "")?.[1];
        if (!token) {
          void reply.header("WWW-Authenticate", 'Bearer realm="kubernetes"');
          throw new HttpError(
            401,
            "UNAUTHENTICATED",
            "no bearer token: send `Authorization: Bearer <token>` with a Kubernetes token (a ServiceAccount token from `kubectl create token`, or your own)",
          );
        }
        const result = await this.authenticate(token);
        if ("rejected" in result) {
          void reply.header("WWW-Authenticate", 'Bearer realm="kubernetes", error="invalid_token"');
          throw new HttpError(
            401,
            "UNAUTHENTICATED",
            `the Kubernetes API rejected the token: ${result.rejected}`,
          );
        }
        this.users.set(request, result.user);
      },
      preHandler: async (request) => {
        const user = this.user(request);
        const namespace = rule.namespace(request);
        const name = rule.name?.(request);
        const decision = await this.authorize(user, rule, namespace, name);
        if (!decision.allowed) {
          throw new HttpError(
            403,
            "FORBIDDEN",
            `user "${user.username}" may not ${rule.verb} ${describeResource(rule)}${name ? ` "${name}"` : ""} ${
              namespace ? `in namespace "${namespace}"` : "in all namespaces"
            }${decision.reason ? `: ${decision.reason}` : ""}; an RBAC Role bound to the user must grant it`,
          );
        }
      },
    };
  }

  /** The user a request was authenticated as (in handlers of routes that `require` a rule). */
  user(request: FastifyRequest): KubeUser {
    const user = this.users.get(request);
    if (!user) throw new Error("the route does not authenticate its requests (KubeAuth.require)");
    return user;
  }

  /** Checks a token with a TokenReview (cached by the token's hash). */
  authenticate(token: string): Promise<Authentication> {
    const key = createHash("sha256").update(token).digest("hex");
    return this.cached(this.tokens, key, () => this.reviewToken(token));
  }

  /** Asks with a SubjectAccessReview whether `user` may do what `rule` says (cached). */
  authorize(
    user: KubeUser,
    rule: Omit<AccessRule, "namespace" | "name">,
    namespace: string | undefined,
    name?: string,
  ): Promise<Decision> {
    const attributes = {
      verb: rule.verb,
      group: rule.group,
      resource: rule.resource,
      ...(rule.subresource && { subresource: rule.subresource }),
      ...(namespace && { namespace }),
      ...(name && { name }),
    };
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, attributes]);
    return this.cached(this.decisions, key, () => this.reviewAccess(user, attributes));
  }

  /** Shares one review among concurrent requests; a failed review (apiserver unreachable) is not kept. */
  private cached<T extends object>(
    cache: LRUCache<string, Promise<T>>,
    key: string,
    review: () => Promise<T>,
  ): Promise<T> {
    const hit = cache.get(key);
    if (hit) return hit;
    const pending = review().catch((error: unknown) => {
      cache.delete(key);
      throw new HttpError(
        503,
        "UNAVAILABLE",
        `could not check the request with the Kubernetes API: ${(error as Error).message}; retry shortly`,
      );
    });
    cache.set(key, pending);
    return pending;
  }

  private async reviewToken(token: string): Promise<Authentication> {
    const answer = TokenReviewAnswer.parse(
      await this.client.request({
        method: "POST",
        path: "/apis/authentication.k8s.io/v1/tokenreviews",
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token, ...(this.audiences && { audiences: this.audiences }) },
        },
      }),
    );
    const status = answer.status ?? {};
    if (!status.authenticated || !status.user?.username) {
      return { rejected: status.error || "the token is not valid (expired, revoked or unknown)" };
    }
    const { username, uid, groups, extra } = status.user;
    return { user: { username, groups: groups ?? [], ...(uid && { uid }), ...(extra && { extra }) } };
  }

  private async reviewAccess(user: KubeUser, resourceAttributes: Record<string, string>): Promise<Decision> {
    const answer = AccessReviewAnswer.parse(
      await this.client.request({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username,
            groups: user.groups,
            ...(user.uid && { uid: user.uid }),
            ...(user.extra && { extra: user.extra }),
            resourceAttributes,
          },
        },
      }),
    );
    const status = answer.status;
    return { allowed: status?.allowed === true, reason: status?.reason || status?.evaluationError || "" };
  }
}

function describeResource(rule: Omit<AccessRule, "namespace" | "name">): string {
  const resource = rule.group ? `${rule.resource}.${rule.group}` : rule.resource;
  return rule.subresource ? `${resource}/${rule.subresource}` : resource;
}
