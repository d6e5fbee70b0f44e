/**
 * The base of every Darwin HTTP service (the operator's probes, the admission webhook, the data plane):
 * Fastify with zod route schemas, OpenAPI and its UI at /docs, /healthz, /readyz with named checks,
 * /metrics with a request-duration histogram, a body limit, one error shape, and pino logs.
 * `buildService` returns the app without listening, so tests call `inject()`.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { errorBody, handleError } from "./errors.ts";
import { requestDuration } from "./metrics.ts";

/** A Fastify app whose routes take zod schemas. */
export type Service = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** The answer of a probe: `detail` says what is wrong when `ok` is false. */
export interface Probe {
  ok: boolean;
  detail: string;
}

/**
 * One named condition of readiness (`informers`, `cassandra`...); /readyz lists the ones failing. A check
 * that throws or takes longer than its timeout counts as failing.
 */
export interface ReadinessCheck {
  name: string;
  check: () => Probe | Promise<Probe>;
  /** @default 2000 */
  timeoutMs?: number;
}

export interface ServiceOptions {
  /** Names the service in logs, metrics (`service` label) and the OpenAPI title, e.g. `feature-server`. */
  name: string;
  /** Version shown in the OpenAPI document. @default "v1alpha1" */
  version?: string;
  /** One paragraph for the OpenAPI document. */
  description?: string;
  logger: Logger;
  /** Where the request-duration histogram is registered and what /metrics serves. */
  registry: Registry;
  /** @default [] (ready as soon as it listens) */
  readiness?: readonly ReadinessCheck[];
  /** /healthz fails when this says so (e.g. while shutting down). @default always ok */
  liveness?: () => Probe;
  /** Largest request body accepted; larger ones get 413 BODY_TOO_LARGE. @default 1 MiB */
  bodyLimitBytes?: number;
  /** A request that takes longer is answered 408 and its socket closed. @default 30 s */
  requestTimeoutMs?: number;
  /** Serve the OpenAPI document at /docs/json and its UI at /docs. @default true */
  docs?: boolean;
  /**
   * Serve HTTPS with these options (the certificate can be replaced later with the server's
   * setSecureContext). @default plain HTTP
   */
  https?: { cert?: string; key?: string; minVersion?: "TLSv1.2" | "TLSv1.3" };
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Builds a service: register its routes on the returned app (they appear in the OpenAPI document), then
 * `listen` it or `inject` requests.
 */
export async function buildService(options: ServiceOptions): Promise<Service> {
  const logger = options.logger.child({ service: options.name });
  const app = Fastify({
    loggerInstance: logger,
    // Every request is logged once, at debug, by the onResponse hook below; probes would drown info logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    ...(options.https && { https: options.https }),
    // A URL that does not decode: bad input, answered in the same shape as every other error.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).send(errorBody("BAD_REQUEST", error.message));
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as Service;

  // A client that never finishes its headers is not worth a socket for long.
  app.server.headersTimeout = 10_000;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody("NOT_FOUND", `no route for ${request.method} ${request.url}`));
  });

  const duration = requestDuration(options.registry);
  app.addHook("onResponse", async (request, reply) => {
    // The route pattern, not the URL: one series per route whatever the path parameters are.
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    duration.observe(
      { service: options.name, method: request.method, route, code: String(reply.statusCode) },
      seconds,
    );
    request.log.debug(
      { method: request.method, route, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      "Served request",
    );
  });

  // Once close() has begun, answers end their keep-alive connection: otherwise an idle client connection
  // left behind by a request that was in flight would hold close() until the keep-alive timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) void reply.header("connection", "close");
    return payload;
  });

  if (options.docs ?? true) {
    await app.register(fastifySwagger, {
      openapi: {
        info: {
          title: options.name,
          version: options.version ?? "v1alpha1",
          ...(options.description && { description: options.description }),
        },
        components: {
          securitySchemes: {
            bearer: {
              type: "http",
              scheme: "bearer",
              description: "A Kubernetes token (ServiceAccount token or the user's own)",
            },
          },
        },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  }

  registerProbes(app, options);
  return app;
}

function registerProbes(app: Service, options: ServiceOptions): void {
  const text = "text/plain; charset=utf-8";
  app.get("/healthz", { schema: { hide: true } }, async (_request, reply) => {
    const probe = options.liveness?.() ?? { ok: true, detail: "" };
    return reply
      .code(probe.ok ? 200 : 503)
      .type(text)
      .send(probe.ok ? "ok" : probe.detail);
  });
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const checks = options.readiness ?? [];
    const results = await Promise.all(checks.map(async (c) => ({ name: c.name, ...(await runCheck(c)) })));
    const failing = results.filter((r) => !r.ok);
    if (failing.length === 0) return reply.code(200).type(text).send("ok");
    return reply
      .code(503)
      .type(text)
      .send(failing.map((r) => `${r.name}: ${r.detail}`).join("\n"));
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.code(200).type(options.registry.contentType).send(body);
  });
}

/** A probe must answer quickly: a hung dependency must not hang /readyz with it. */
const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<Probe> {
  const ms = check.timeoutMs ?? CHECK_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Probe>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(check.check), timeout]);
  } catch (error) {
    return { ok: false, detail: `check failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
