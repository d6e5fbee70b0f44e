/**
 * The feature server's HTTP routes on the shared service base (operator/http): the seed SDK's
 * fetch_features and Feast's get-online-features, each also under /namespaces/{namespace}/. Every read
 * needs a bearer token (TokenReview) allowed to `get` the FeatureGroup in the tenant's namespace
 * (SubjectAccessReview).
 *
 * The tenant (namespace) is, first to last: the path prefix /namespaces/{namespace}, the
 * X-Darwin-Namespace header, the namespace of the ServiceAccount the token belongs to.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { z } from "zod";
import { DNS_LABEL } from "../../crds/src/index.ts";
import {
  buildService,
  HttpError,
  type KubeAuth,
  type ReadinessCheck,
  type Service,
} from "../../operator/http/index.ts";
import {
  FeastPushRequest,
  FetchFeaturesRequest,
  FetchFeaturesResponse,
  GetOnlineFeaturesRequest,
  GetOnlineFeaturesResponse,
  PushFeaturesRequest,
  PushFeaturesResponse,
} from "./api.ts";
import { type GroupRegistry, RequestError } from "./groups.ts";
import { type HistoricalFeaturesDependencies, registerHistoricalFeatures } from "./historical.ts";
import type { FeaturePusher } from "./push.ts";
import type { FeatureService } from "./service.ts";

export const NAMESPACE_HEADER = "x-darwin-namespace";

export interface FeatureServerDependencies {
  service: FeatureService;
  pusher: FeaturePusher;
  groups: GroupRegistry;
  auth: KubeAuth;
  logger: Logger;
  registry: Registry;
  readiness: ReadinessCheck[];
  /** The offline store, for historical-features; the route is absent without it. */
  historical?: HistoricalFeaturesDependencies;
}

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):[^:]+$/;

const NamespaceParams = z.object({
  namespace: z
    .string()
    .regex(DNS_LABEL, "must be a namespace name (RFC 1123 label)")
    .describe("The tenant: the namespace whose feature groups are read."),
});

export async function buildFeatureServer(deps: FeatureServerDependencies): Promise<Service> {
  const app = await buildService({
    name: "feature-server",
    description:
      "Online feature serving: the seed SDK's fetch_features and Feast 0.67's get-online-features over the FeatureGroups of a namespace. Send a Kubernetes bearer token allowed to get the FeatureGroup.",
    logger: deps.logger,
    registry: deps.registry,
    readiness: deps.readiness,
  });

  /** The tenant of a request; a 400 when nothing names one. */
  const tenant = (request: FastifyRequest): string => {
    const fromPath = (request.params as { namespace?: string } | undefined)?.namespace;
    if (fromPath) return fromPath;
    const header = request.headers[NAMESPACE_HEADER];
    if (typeof header === "string" && header !== "") {
      if (!DNS_LABEL.test(header)) {
        throw new HttpError(
          400,
          "INVALID_REQUEST",
          `${NAMESPACE_HEADER}: "${header}" is not a namespace name`,
        );
      }
      return header;
    }
    const user = deps.auth.user(request).username;
    const match = SERVICE_ACCOUNT.exec(user);
    if (match?.[1]) return match[1];
    throw new HttpError(
      400,
      "INVALID_REQUEST",
      `say which namespace's feature groups to read: a path starting /namespaces/<namespace>/ or the ${NAMESPACE_HEADER} header (only ServiceAccount tokens imply one)`,
    );
  };

  /** The FeatureGroup a request reads, by its Kubernetes name, for the access review. */
  const groupName = (request: FastifyRequest, requested: string | undefined): string | undefined => {
    if (requested === undefined) return undefined;
    return deps.groups.find(tenant(request), requested)?.metadata.name ?? requested;
  };

  const accessFetch = deps.auth.require({
    verb: "get",
    group: "darwin.dreamhorizon.org",
    resource: "featuregroups",
    namespace: tenant,
    name: (request) => groupName(request, (request.body as FetchFeaturesRequest).feature_group_name),
  });
  const accessFeast = deps.auth.require({
    verb: "get",
    group: "darwin.dreamhorizon.org",
    resource: "featuregroups",
    namespace: tenant,
    // One group named: access to it; several: access to the namespace's groups.
    name: (request) => {
      const groups = new Set(
        ((request.body as GetOnlineFeaturesRequest).features ?? []).map((f) => f.split(":")[0]),
      );
      return groups.size === 1 ? groupName(request, [...groups][0]) : undefined;
    },
  });

  // Pushing is its own permission: `create` on the pseudo-subresource featuregroups/push, so a writer needs
  // no right to change the group itself.
  const accessPush = (group: (request: FastifyRequest) => string) =>
    deps.auth.require({
      verb: "create",
      group: "darwin.dreamhorizon.org",
      resource: "featuregroups",
      subresource: "push",
      namespace: tenant,
      name: (request) => groupName(request, group(request)),
    });
  const accessDarwinPush = accessPush((request) => (request.body as PushFeaturesRequest).feature_group_name);
  const accessFeastPush = accessPush((request) => (request.body as FeastPushRequest).push_source_name);
  for (const prefix of ["", "/namespaces/:namespace"]) {
    const params = prefix ? { params: NamespaceParams } : {};
    app.post(
      // `::` is Fastify's escape for a literal ':' (Google's custom-method style path).
      `${prefix}/feature-store/v1/features::fetch`,
      {
        ...accessFetch,
        schema: {
          summary: "Fetch features (the seed SDK's fetch_features)",
          description:
            "Values of feature_columns for each key in primary_key_values, with a status per value (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE) and its event time.",
          tags: ["features"],
          security: [{ bearer: [] }],
          ...params,
          body: FetchFeaturesRequest,
          response: { 200: FetchFeaturesResponse },
        },
      },
      async (request, reply) =>
        answer(reply, () => deps.service.fetch(tenant(request), request.body as FetchFeaturesRequest)),
    );
    app.post(
      `${prefix}/get-online-features`,
      {
        ...accessFeast,
        schema: {
          summary: "Get online features (Feast 0.67's shape)",
          description:
            "Feast's get-online-features: entities as key columns, features as group:feature; column-major results with the entity keys first.",
          tags: ["features"],
          security: [{ bearer: [] }],
          ...params,
          body: GetOnlineFeaturesRequest,
          response: { 200: GetOnlineFeaturesResponse },
        },
      },
      async (request, reply) =>
        answer(reply, () =>
          deps.service.getOnlineFeatures(tenant(request), request.body as GetOnlineFeaturesRequest),
        ),
    );
    if (deps.historical) {
      const historical = deps.historical;
      registerHistoricalFeatures(app, { ...deps, historical, tenant, groupName, answer, params, prefix });
    }
    app.post(
      `${prefix}/feature-store/v1/features::push`,
      {
        ...accessDarwinPush,
        schema: {
          summary: "Push feature rows",
          description:
            "Rows with their event times, checked against the group version's schema and produced to its Kafka topic (acks=all, idempotent producer). 202 once Kafka acknowledged every row; the materializer writes them to the online store, where the latest event time wins. 503 with Retry-After while Kafka is unavailable.",
          tags: ["features"],
          security: [{ bearer: [] }],
          ...params,
          body: PushFeaturesRequest,
          response: { 202: PushFeaturesResponse },
        },
      },
      async (request, reply) =>
        answer(reply, async () => {
          const result = await deps.pusher.push(tenant(request), request.body as PushFeaturesRequest);
          void reply.code(202);
          return result;
        }),
    );
    app.post(
      `${prefix}/push`,
      {
        ...accessFeastPush,
        schema: {
          summary: "Push (Feast's shape)",
          description:
            "Feast's push: push_source_name names the feature group, df holds column-major rows with event_timestamp. Answers 200 with null, as Feast does, once Kafka acknowledged every row.",
          tags: ["features"],
          security: [{ bearer: [] }],
          ...params,
          body: FeastPushRequest,
        },
      },
      async (request, reply) =>
        answer(reply, async () => {
          await deps.pusher.feastPush(tenant(request), request.body as FeastPushRequest);
          return reply.code(200).type("application/json").send("null");
        }),
    );
  }
  return app;
}

/** The handler's result, or the RequestError's status, code and message (Retry-After on a 503). */
async function answer<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof RequestError)) throw err;
    if (err.retryAfter !== undefined) void reply.header("retry-after", String(err.retryAfter));
    return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
  }
}
