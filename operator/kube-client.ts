/**
 * A thin HTTP client for the Kubernetes API. Where the server is and how to authenticate come from
 * kubeconfig.ts (kubeconfig file, in-cluster service account, token files and exec plugins); requests go
 * through node:https with one keep-alive agent, so the operator controls content types (apply patches),
 * streaming watches and timeouts, and every request can be observed (metrics, tests counting writes). An
 * apiserver that says it is busy (429, or 503 with a Retry-After, as while a resource's watch cache
 * initializes) is asked again after the time it names, a bounded number of times, here and nowhere else.
 */
import http from "node:http";
import https from "node:https";
import { ApiError } from "./api-error.ts";
import { sleep } from "./backoff.ts";
import { bearerToken, type KubeAccess, loadKubeAccess } from "./kubeconfig.ts";
import { type KubeObject, kubeObject } from "./resource.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeRequest {
  method: HttpMethod;
  /** Path below the server URL, e.g. /api/v1/namespaces/x/configmaps. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON (which is also valid YAML for apply patches). */
  body?: unknown;
  /** Content type of the body; application/json by default. */
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request timeout; ignored for streams. Default 30 s. */
  timeoutMs?: number;
  /** How busy answers are retried; the client's policy by default. */
  retry?: RetryPolicy;
}

/**
 * Retries of answers that say "busy, come back later": 429 Too Many Requests (API Priority and Fairness)
 * and 503 with a Retry-After header. The wait is what Retry-After says (1 s when a 429 names none), at most
 * `maxDelayMs`; other errors are never retried here.
 */
export interface RetryPolicy {
  /** Tries in all, the first included; 1 turns retries off. */
  attempts: number;
  /** Longest single wait, whatever Retry-After says. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, maxDelayMs: 10_000 };

/** One finished request, as observers see it. */
export interface RequestRecord {
  method: HttpMethod;
  path: string;
  /** HTTP status, or 0 when no response arrived (connection refused, reset, timeout). */
  code: number;
  seconds: number;
  watch: boolean;
}

export type RequestObserver = (record: RequestRecord) => void;

export interface KubeClientOptions {
  /** Path of a kubeconfig file; without it: $KUBECONFIG, ~/.kube/config, then the in-cluster config. */
  kubeconfig?: string | undefined;
  userAgent?: string;
  /** @default DEFAULT_RETRY */
  retry?: RetryPolicy;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class KubeClient {
  /** Base URL of the apiserver. */
  readonly server: string;
  private readonly access: KubeAccess;
  /** The current bearer token, asked per request: token files and exec credentials rotate. */
  private readonly token: (() => Promise<string>) | undefined;
  private readonly userAgent: string;
  private readonly retry: RetryPolicy;
  private readonly observers = new Set<RequestObserver>();
  private agent: http.Agent | undefined;

  constructor(access: KubeAccess, userAgent = "darwin-operator", retry: RetryPolicy = DEFAULT_RETRY) {
    this.access = access;
    this.server = access.server.replace(/\/+$/, "");
    this.token = access.token && bearerToken(access.token);
    this.userAgent = userAgent;
    this.retry = retry;
  }

  /** A client from a kubeconfig file, $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  static load(options: KubeClientOptions = {}): KubeClient {
    return new KubeClient(
      loadKubeAccess({ kubeconfig: options.kubeconfig }),
      options.userAgent,
      options.retry,
    );
  }

  /**
   * The Authorization header this client sends (a bearer token; none for client certificates), asked now:
   * for another service that checks the same identity (Chronos takes the operator's token).
   */
  async authorization(): Promise<string | undefined> {
    return this.token && `Bearer ${await this.token()}`;
  }

  /** Calls `observer` after every request; returns a function that stops it. */
  observe(observer: RequestObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Sends a request and returns the parsed JSON body; throws ApiError on a non-2xx answer. */
  request(req: KubeRequest): Promise<unknown> {
    return this.retrying(req, () => this.requestOnce(req));
  }

  private requestOnce(req: KubeRequest): Promise<unknown> {
    return this.observed(req, false, async (res) => {
      const text = await readBody(res);
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw failure(res, text, req);
      return text.length > 0 ? JSON.parse(text) : undefined;
    });
  }

  /**
   * Sends one request and returns the answer's status and text, whatever the status: for paths whose
   * answers are not the apiserver's own, such as its proxy to a Service. Never retried.
   */
  requestText(req: KubeRequest): Promise<{ status: number; body: string }> {
    return this.observed(req, false, async (res) => ({
      status: res.statusCode ?? 0,
      body: await readBody(res),
    }));
  }

  /** Sends the request and hands its answer to `read`; the observers hear of it once `read` is done. */
  private async observed<T>(
    req: KubeRequest,
    streaming: boolean,
    read: (res: http.IncomingMessage) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let code = 0;
    try {
      const res = await this.send(req, streaming);
      code = res.statusCode ?? 0;
      return await read(res);
    } finally {
      this.notify({
        method: req.method,
        path: req.path,
        code,
        seconds: (performance.now() - started) / 1000,
        watch: streaming,
      });
    }
  }

  /** Like request(), for answers that are one object. */
  async requestObject(req: KubeRequest): Promise<KubeObject> {
    return kubeObject.parse(await this.request(req));
  }

  /**
   * Opens a streaming request (a watch) and returns the response once its headers say 200; the caller
   * reads and eventually destroys it. A non-200 answer is read and thrown as ApiError.
   */
  stream(req: KubeRequest): Promise<http.IncomingMessage> {
    return this.retrying(req, () => this.streamOnce(req));
  }

  private streamOnce(req: KubeRequest): Promise<http.IncomingMessage> {
    return this.observed(req, true, async (res) => {
      if (res.statusCode !== 200) throw failure(res, await readBody(res), req);
      return res;
    });
  }

  /** Runs `once` again while the apiserver answers busy, within the request's retry policy. */
  private async retrying<T>(req: KubeRequest, once: () => Promise<T>): Promise<T> {
    const policy = req.retry ?? this.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (error) {
        const delay = error instanceof ApiError ? error.retryAfterMs : undefined;
        if (delay === undefined || attempt >= policy.attempts || req.signal?.aborted) throw error;
        await sleep(Math.min(delay, policy.maxDelayMs), req.signal);
        if (req.signal?.aborted) throw error;
      }
    }
  }

  private notify(record: RequestRecord): void {
    for (const observer of this.observers) observer(record);
  }

  private async send(req: KubeRequest, streaming: boolean): Promise<http.IncomingMessage> {
    const url = new URL(this.server + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": this.userAgent };
    const authorization = await this.authorization();
    if (authorization) headers.Authorization = authorization;
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    if (body) {
      headers["Content-Type"] = req.contentType ?? "application/json";
      headers["Content-Length"] = String(body.length);
    }
    const secure = url.protocol === "https:";
    const agent = this.agentFor(secure);
    return new Promise((resolve, reject) => {
      const options: https.RequestOptions = { method: req.method, headers, agent };
      if (req.signal) options.signal = req.signal;
      const request = (secure ? https : http).request(url, options, resolve);
      request.on("error", reject);
      if (!streaming) {
        request.setTimeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS, () =>
          request.destroy(new Error(`${req.method} ${req.path} timed out`)),
        );
      }
      request.end(body);
    });
  }

  private agentFor(secure: boolean): http.Agent {
    if (!this.agent) {
      const common = { keepAlive: true, keepAliveMsecs: 30_000 };
      const tls = this.access.tls ?? {};
      this.agent = secure
        ? new https.Agent({
            ...common,
            ...(tls.ca && { ca: tls.ca }),
            ...(tls.cert && { cert: tls.cert }),
            ...(tls.key && { key: tls.key }),
            ...(tls.insecureSkipVerify && { rejectUnauthorized: false }),
            ...(tls.serverName && { servername: tls.serverName }),
          })
        : new http.Agent(common);
    }
    return this.agent;
  }

  /** Closes idle keep-alive connections (streams close when their readers destroy them). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

/** The ApiError of a failed answer, with the wait its Retry-After asks for when it says "busy". */
function failure(res: http.IncomingMessage, text: string, req: KubeRequest): ApiError {
  const code = res.statusCode ?? 0;
  return ApiError.fromResponse(
    code,
    text,
    `${req.method} ${req.path}`,
    busyDelayMs(code, res.headers["retry-after"]),
  );
}

/**
 * How long a busy answer asks to wait: 429 always (1 s when it names no time), 503 only with a
 * Retry-After (without one it is a failure, not a request to come back). Retry-After is seconds or an
 * HTTP date.
 */
export function busyDelayMs(
  code: number,
  retryAfter: string | undefined,
  now = Date.now(),
): number | undefined {
  if (code !== 429 && !(code === 503 && retryAfter !== undefined)) return undefined;
  if (retryAfter === undefined) return 1000;
  const trimmed = retryAfter.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now);
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
    res.on("aborted", () => reject(new Error("response aborted")));
  });
}
