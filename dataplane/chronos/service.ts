/**
 * The Chronos HTTP API (`buildChronosService`): event ingestion into Kafka and queries over the entity
 * graph. An event is answered 202 with its id only after Kafka acknowledged it (acks=all); when Kafka
 * cannot take it the answer is 503 with Retry-After and the event is not stored, so a client that retries
 * on 503 loses nothing. Access is Kubernetes RBAC in the event's namespace: `create chronosevents` to
 * post, `get chronosevents` to read (group darwin.dreamhorizon.org).
 */
import { randomUUID } from "node:crypto";
import type { FastifyReply } from "fastify";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { z } from "zod";
import { DNS_LABEL } from "../../crds/src/index.ts";
import {
  buildService,
  errorBody,
  HttpError,
  type KubeAuth,
  type Service,
} from "../../operator/http/index.ts";
import type { Pool } from "../shared/mysql.ts";
import { allowedNamespaces, authenticated, requestNamespace, requireAccess } from "../shared/tenant.ts";
import { type ChronosEvent, completeEvent, eventInput } from "./event.ts";
import { KafkaUnavailable } from "./kafka.ts";
import {
  entityEvents,
  entityRelationships,
  eventSources,
  getEntity,
  graphNamespaces,
  lineage,
} from "./store.ts";

export interface ChronosServiceDependencies {
  pool: Pool;
  publisher: { publish(events: readonly ChronosEvent[]): Promise<void> };
  auth: KubeAuth;
  logger: Logger;
  registry: Registry;
  /** Most events one batch may carry. @default 500 */
  maxBatch?: number;
  /** Deepest lineage query. @default 10 */
  maxDepth?: number;
  now?: () => Date;
}

const POST = { verb: "create", resource: "chronosevents" };
const READ = { verb: "get", resource: "chronosevents" };
const PREFIX = "/chronos/api/v1";

const namespaceParam = z.string().max(63).regex(DNS_LABEL, "must be a namespace name");
const entityParams = z.object({
  namespace: namespaceParam.describe("The tenant."),
  type: z.string().min(1).max(64).describe("Entity type, e.g. cluster."),
  id: z.string().min(1).max(255).describe("Entity id (URL-encoded), e.g. housing-project."),
});
const accepted = z.object({ id: z.string().describe("The event's id.") });

const entity = z.object({
  namespace: z.string(),
  type: z.string(),
  id: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const ref = z.object({ type: z.string(), id: z.string() });

export async function buildChronosService(deps: ChronosServiceDependencies): Promise<Service> {
  const maxBatch = deps.maxBatch ?? 500;
  const maxDepth = deps.maxDepth ?? 10;
  const now = deps.now ?? (() => new Date());
  const app = await buildService({
    name: "chronos",
    description:
      "Chronos: platform events into Kafka, turned by ChronosTransformers into entities and relationships; entity, audit-log and lineage queries.",
    logger: deps.logger,
    registry: deps.registry,
    readiness: [
      {
        name: "mariadb",
        check: async () => {
          await deps.pool.query("SELECT 1");
          return { ok: true, detail: "" };
        },
      },
    ],
  });
  const auth = authenticated(deps.auth);
  const eventsAccepted = new Counter({
    name: "chronos_events_accepted_total",
    help: "Events Kafka acknowledged (answered 202), by namespace",
    labelNames: ["namespace"] as const,
    registers: [deps.registry],
  });

  /** Completes, authorises and publishes events; 503 with Retry-After when Kafka cannot take them. */
  async function ingest(
    request: Parameters<typeof deps.auth.user>[0],
    inputs: z.infer<typeof eventInput>[],
    field: (i: number) => string,
  ): Promise<ChronosEvent[]> {
    const user = deps.auth.user(request);
    const at = now();
    const events = inputs.map((input, i) =>
      completeEvent(input, {
        namespace: requestNamespace(user, input.namespace, field(i)),
        now: at,
        newId: randomUUID,
      }),
    );
    await requireAccess(
      deps.auth,
      request,
      POST,
      events.map((e) => e.namespace),
    );
    await deps.publisher.publish(events);
    for (const event of events) eventsAccepted.inc({ namespace: event.namespace });
    return events;
  }

  app.post(
    `${PREFIX}/event`,
    { schema: { body: eventInput, response: { 202: accepted } }, ...auth },
    async (request, reply) => {
      try {
        const [event] = await ingest(request, [request.body], () => "body.namespace");
        return reply.code(202).send({ id: event?.id ?? "" });
      } catch (error) {
        return unavailable(error, reply);
      }
    },
  );

  app.post(
    `${PREFIX}/events`,
    {
      schema: {
        body: z.strictObject({
          events: z.array(eventInput).min(1).max(maxBatch).describe(`At most ${maxBatch}.`),
        }),
        response: { 202: z.object({ ids: z.array(z.string()) }) },
      },
      ...auth,
    },
    async (request, reply) => {
      try {
        const events = await ingest(request, request.body.events, (i) => `body.events[${i}].namespace`);
        return reply.code(202).send({ ids: events.map((e) => e.id) });
      } catch (error) {
        return unavailable(error, reply);
      }
    },
  );

  app.get(
    `${PREFIX}/sources`,
    {
      schema: {
        querystring: z.object({
          namespace: namespaceParam.optional().describe("One tenant; all you may read when absent."),
        }),
        response: {
          200: z.object({
            sources: z.array(
              z.object({
                namespace: z.string(),
                source: z.string(),
                events: z.number(),
                lastEventTime: z.string(),
              }),
            ),
          }),
        },
      },
      ...auth,
    },
    async (request) => {
      const candidates = request.query.namespace
        ? [request.query.namespace]
        : await graphNamespaces(deps.pool);
      const namespaces = await allowedNamespaces(deps.auth, request, READ, candidates);
      if (request.query.namespace && namespaces.length === 0)
        await requireAccess(deps.auth, request, READ, [request.query.namespace]);
      return { sources: await eventSources(deps.pool, namespaces) };
    },
  );

  const entityPath = `${PREFIX}/namespaces/:namespace/entities/:type/:id`;
  app.get(
    entityPath,
    { schema: { params: entityParams, response: { 200: entity } }, ...auth },
    async (request) => {
      const { namespace, type, id } = request.params;
      await requireAccess(deps.auth, request, READ, [namespace]);
      return (await getEntity(deps.pool, namespace, { type, id })) ?? notFound(namespace, type, id);
    },
  );

  app.get(
    `${entityPath}/relationships`,
    {
      schema: {
        params: entityParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: {
          200: z.object({
            relationships: z.array(
              z.object({
                type: z.string(),
                from: ref,
                to: ref,
                attributes: z.record(z.string(), z.unknown()),
                lastEventId: z.string(),
              }),
            ),
          }),
        },
      },
      ...auth,
    },
    async (request) => {
      const { namespace, type, id } = request.params;
      await requireAccess(deps.auth, request, READ, [namespace]);
      const relationships = await entityRelationships(
        deps.pool,
        namespace,
        { type, id },
        request.query.limit,
      );
      return relationships ? { relationships } : notFound(namespace, type, id);
    },
  );

  app.get(
    `${entityPath}/events`,
    {
      schema: {
        params: entityParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          after: z.coerce.number().int().min(0).optional().describe("The `next` of the previous page."),
        }),
        response: {
          200: z.object({
            events: z.array(
              z.object({
                id: z.string(),
                namespace: z.string(),
                source: z.string(),
                type: z.string(),
                time: z.string(),
                receivedAt: z.string(),
                payload: z.record(z.string(), z.unknown()),
              }),
            ),
            next: z.string().optional(),
          }),
        },
      },
      ...auth,
    },
    async (request) => {
      const { namespace, type, id } = request.params;
      await requireAccess(deps.auth, request, READ, [namespace]);
      const page = await entityEvents(deps.pool, namespace, { type, id }, request.query);
      return page ?? notFound(namespace, type, id);
    },
  );

  app.get(
    `${entityPath}/lineage`,
    {
      schema: {
        params: entityParams,
        querystring: z.object({
          direction: z.enum(["upstream", "downstream", "both"]).default("both"),
          depth: z.coerce.number().int().min(0).max(maxDepth).default(3),
          limit: z.coerce.number().int().min(1).max(5000).default(1000).describe("Most nodes returned."),
        }),
        response: {
          200: z.object({
            root: ref,
            direction: z.string(),
            depth: z.number(),
            nodes: z.array(entity.extend({ distance: z.number() })),
            edges: z.array(z.object({ type: z.string(), from: ref, to: ref })),
            truncated: z.boolean(),
          }),
        },
      },
      ...auth,
    },
    async (request) => {
      const { namespace, type, id } = request.params;
      await requireAccess(deps.auth, request, READ, [namespace]);
      const { direction, depth, limit } = request.query;
      const graph = await lineage(deps.pool, namespace, { type, id }, { direction, depth, maxNodes: limit });
      return graph ?? notFound(namespace, type, id);
    },
  );

  return app;
}

function notFound(namespace: string, type: string, id: string): never {
  throw new HttpError(
    404,
    "NOT_FOUND",
    `no ${type} "${id}" in namespace "${namespace}" (no event has named it yet)`,
  );
}

/** Kafka unavailable: 503 with Retry-After; anything else goes to the service's error handler. */
function unavailable(error: unknown, reply: FastifyReply): FastifyReply {
  if (!(error instanceof KafkaUnavailable)) throw error;
  return reply
    .code(503)
    .header("retry-after", String(error.retryAfterSeconds))
    .send(
      errorBody(
        "UNAVAILABLE",
        `${error.message}; nothing was stored, retry after ${error.retryAfterSeconds} s`,
      ),
    );
}
