/**
 * The admission webhook's HTTPS server, on the HTTP base (operator/http): `POST
 * /validate/<group>/<version>/<plural>` per kind, plus the base's `/healthz`, `/readyz` and `/metrics`.
 * `buildApp` returns it without listening; tests call `inject` to run a request through the same routes
 * without TLS or a socket.
 */
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createSecureContext } from "node:tls";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type Logger, pino } from "pino";
import { Registry } from "prom-client";
import type { LookupSource } from "../api/validation/context.ts";
import { validatorsForAllKinds } from "../api/validation/index.ts";
import type { KindValidator } from "../api/validation/validator.ts";
import { GROUP, VERSION } from "../crds/src/index.ts";
import { errorBody, HttpError } from "../operator/http/errors.ts";
import { closeGracefully } from "../operator/http/lifecycle.ts";
import { buildService, type Service } from "../operator/http/service.ts";
import { AdmissionReviewRequest, review, reviewResponse, skipReason } from "./admission.ts";
import { certificateInfo, type KeyPair } from "./certs/authority.ts";
import { webhookMetrics } from "./metrics.ts";

/** The largest request body accepted: an AdmissionReview carries the object twice (etcd allows 1.5 MiB each). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface WebhookAppDeps {
  /** Where rules read referenced resources (DarwinRuntimes, ServeEnvironments). */
  lookups: LookupSource;
  /** Serving certificate to start with; replace it later with `setCertificate`. */
  certificate?: KeyPair;
  /** @default one per Darwin kind (validatorsForAllKinds) */
  validators?: readonly KindValidator[];
  /** @default a silent logger */
  logger?: Logger;
  /** Registry for the webhook metrics. @default a private registry */
  registry?: Registry;
}

export interface InjectRequest {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  url: string;
  /** Sent as JSON (a string is sent as it is, e.g. to test malformed JSON). */
  body?: unknown;
}

export interface InjectResponse {
  statusCode: number;
  body: string;
  json<T = unknown>(): T;
}

export interface WebhookApp {
  /** The Fastify app (routes, hooks). */
  app: Service;
  /** The HTTPS server, not listening. */
  server: Server;
  /** Runs one request through the routes, without TLS or a socket. */
  inject(request: InjectRequest): Promise<InjectResponse>;
  /** Serves a new certificate to new connections and closes idle ones so clients reconnect to it. */
  setCertificate(pair: KeyPair): void;
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * From now on every answer says `Connection: close`: the API server's kept-alive connections to this
   * replica end after their next request, and new ones go through the Service to a replica that stays.
   */
  drain(): void;
  close(): Promise<void>;
}

/** `/validate/darwin.dreamhorizon.org/v1alpha1/darwinclusters` for a kind. */
export const validatePath = (plural: string): string => `/validate/${GROUP}/${VERSION}/${plural}`;

export async function buildApp(deps: WebhookAppDeps): Promise<WebhookApp> {
  const logger = deps.logger ?? pino({ level: "silent" });
  const registry = deps.registry ?? new Registry();
  const metrics = webhookMetrics(registry);
  const app = await buildService({
    name: "webhook",
    logger,
    registry,
    bodyLimitBytes: MAX_BODY_BYTES,
    // The API server gives a webhook at most 30 s; a client slower than that is not the API server.
    requestTimeoutMs: 30_000,
    docs: false,
    https: {
      minVersion: "TLSv1.2",
      ...(deps.certificate && { cert: deps.certificate.cert, key: deps.certificate.key }),
    },
  });
  // buildService was given `https`: the server is an HTTPS one.
  const server = app.server as unknown as Server;

  let draining = false;
  app.addHook("onSend", async (_request, reply) => {
    if (draining) reply.header("connection", "close");
  });

  for (const validator of deps.validators ?? validatorsForAllKinds()) {
    const webhook = validatePath(validator.kind.plural);
    const timers = new WeakMap<FastifyRequest, () => void>();
    app.post(
      webhook,
      {
        schema: { body: AdmissionReviewRequest },
        // Hooks of the route, so that requests refused before the handler (bad JSON, not a review) count too.
        onRequest: async (request) => {
          metrics.inFlight.inc({ webhook });
          timers.set(request, metrics.latency.startTimer({ webhook }));
        },
        onResponse: async (request, reply) => {
          timers.get(request)?.();
          metrics.inFlight.dec({ webhook });
          metrics.requests.inc({ webhook, code: String(reply.statusCode) });
        },
      },
      async (request) => {
        const { request: admission } = request.body;
        if (admission.resource.resource !== validator.kind.plural || admission.resource.group !== GROUP) {
          throw new HttpError(
            400,
            "INVALID_REQUEST",
            `this path validates ${validator.kind.plural}, not ${admission.resource.group}/${admission.resource.resource}`,
            "body.request.resource",
          );
        }
        const response = await review(admission, validator, deps.lookups);
        const fields = {
          kind: validator.kind.kind,
          namespace: admission.namespace,
          name: admission.name,
          operation: admission.operation,
        };
        if (!response.allowed) {
          request.log.info(
            { ...fields, reason: response.status?.reason, message: response.status?.message },
            "Denied admission",
          );
        } else {
          request.log.debug({ ...fields, skipped: skipReason(admission) }, "Admitted");
        }
        return reviewResponse(response);
      },
    );
    app.route({
      method: ["GET", "PUT", "PATCH", "DELETE"],
      url: webhook,
      handler: async (_request, reply: FastifyReply) =>
        reply
          .code(405)
          .header("allow", "POST")
          .send(errorBody("METHOD_NOT_ALLOWED", "admission reviews are POSTed")),
    });
  }

  function setCertificate(pair: KeyPair): void {
    // Throws on a bad pair before anything changes, so a broken certificate never replaces a working one.
    createSecureContext({ cert: pair.cert, key: pair.key });
    server.setSecureContext({ cert: pair.cert, key: pair.key });
    metrics.certificateExpiry.set(certificateInfo(pair.cert).notAfter.getTime() / 1000);
    server.closeIdleConnections();
  }
  if (deps.certificate) setCertificate(deps.certificate);

  return {
    app,
    server,
    setCertificate,
    async inject({ method, url, body }) {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const res = await app.inject({
        method,
        url,
        ...(payload !== undefined && { payload, headers: { "content-type": "application/json" } }),
      });
      return { statusCode: res.statusCode, body: res.body, json: <T>() => res.json<T>() };
    },
    async listen(port, host) {
      await app.listen({ port, host });
      return server.address() as AddressInfo;
    },
    drain() {
      draining = true;
    },
    close: () => closeGracefully(app, 5_000),
  };
}
