/**
 * The admission webhook's HTTPS server: `POST /validate/<group>/<version>/<plural>` per kind and
 * `GET /healthz`. `buildApp` returns it without listening; tests call `inject` to run a request through the
 * same handler without a socket.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createSecureContext } from "node:tls";
import { type Logger, pino } from "pino";
import { Registry } from "prom-client";
import type { LookupSource } from "../api/validation/context.ts";
import { validatorsForAllKinds } from "../api/validation/index.ts";
import type { KindValidator } from "../api/validation/validator.ts";
import { GROUP, VERSION } from "../crds/src/index.ts";
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
  method: string;
  url: string;
  body?: unknown;
}

export interface InjectResponse {
  statusCode: number;
  body: string;
  json<T = unknown>(): T;
}

export interface WebhookApp {
  /** The HTTPS server, not listening. */
  server: Server;
  /** Runs one request through the handler, without TLS or a socket. */
  inject(request: InjectRequest): Promise<InjectResponse>;
  /** Serves a new certificate to new connections and closes idle ones so clients reconnect to it. */
  setCertificate(pair: KeyPair): void;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** `/validate/darwin.dreamhorizon.org/v1alpha1/darwinclusters` for a kind. */
export const validatePath = (plural: string): string => `/validate/${GROUP}/${VERSION}/${plural}`;

interface Reply {
  statusCode: number;
  body: unknown;
}

export function buildApp(deps: WebhookAppDeps): WebhookApp {
  const logger = deps.logger ?? pino({ level: "silent" });
  const metrics = webhookMetrics(deps.registry ?? new Registry());
  const routes = new Map(
    (deps.validators ?? validatorsForAllKinds()).map((v) => [validatePath(v.kind.plural), v]),
  );

  async function route(method: string, url: string, readBody: () => Promise<string>): Promise<Reply> {
    const path = url.split("?")[0] ?? url;
    if (path === "/healthz" && method === "GET") return { statusCode: 200, body: "ok" };
    const validator = routes.get(path);
    if (!validator) return { statusCode: 404, body: { message: `no webhook at ${path}` } };
    if (method !== "POST") return { statusCode: 405, body: { message: "admission reviews are POSTed" } };

    const webhook = path;
    metrics.inFlight.inc({ webhook });
    const stopTimer = metrics.latency.startTimer({ webhook });
    let reply: Reply;
    try {
      reply = await admit(validator, readBody);
    } finally {
      stopTimer();
      metrics.inFlight.dec({ webhook });
    }
    metrics.requests.inc({ webhook, code: String(reply.statusCode) });
    return reply;
  }

  async function admit(validator: KindValidator, readBody: () => Promise<string>): Promise<Reply> {
    let text: string;
    try {
      text = await readBody();
    } catch (error) {
      return { statusCode: 413, body: { message: (error as Error).message } };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return { statusCode: 400, body: { message: `request body is not JSON: ${(error as Error).message}` } };
    }
    const parsed = AdmissionReviewRequest.safeParse(body);
    if (!parsed.success) {
      return {
        statusCode: 400,
        body: { message: `not an admission.k8s.io/v1 AdmissionReview: ${parsed.error.message}` },
      };
    }
    const { request } = parsed.data;
    if (request.resource.resource !== validator.kind.plural || request.resource.group !== GROUP) {
      return {
        statusCode: 400,
        body: {
          message: `this path validates ${validator.kind.plural}, not ${request.resource.group}/${request.resource.resource}`,
        },
      };
    }
    const response = await review(request, validator, deps.lookups);
    const fields = {
      kind: validator.kind.kind,
      namespace: request.namespace,
      name: request.name,
      operation: request.operation,
    };
    if (!response.allowed) {
      logger.info(
        { ...fields, reason: response.status?.reason, message: response.status?.message },
        "Denied admission",
      );
    } else {
      logger.debug({ ...fields, skipped: skipReason(request) }, "Admitted");
    }
    return { statusCode: 200, body: reviewResponse(response) };
  }

  const server = createServer({ minVersion: "TLSv1.2" }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "Failed to serve an admission request");
      if (!res.headersSent) send(res, { statusCode: 500, body: { message: "internal error" } });
    });
  });
  // The API server gives a webhook at most 30 s; a client slower than that is not the API server.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    send(res, await route(req.method ?? "GET", req.url ?? "/", () => readBody(req)));
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
    server,
    setCertificate,
    async inject({ method, url, body }) {
      const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
      const reply = await route(method, url, async () => text);
      const out = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
      return { statusCode: reply.statusCode, body: out, json: <T>() => JSON.parse(out) as T };
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.statusCode, {
    "content-type": typeof reply.body === "string" ? "text/plain" : "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
