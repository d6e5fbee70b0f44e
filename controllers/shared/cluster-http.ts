/**
 * HTTP from the operator to a cluster's own servers (the Ray dashboard, Jupyter), either straight to the
 * URL or, with `clusterEndpoints.via: apiserver`, through the apiserver's proxy to the Service that a
 * `<service>.<namespace>.svc` URL names. The proxy is for an operator that runs outside the cluster's
 * network (on a laptop or a testbed), where Service names do not resolve: it needs nothing but the
 * operator's own credentials and RBAC on `services/proxy`. A URL that names no Service (a Ray head outside
 * Kubernetes) always goes straight.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { HttpMethod, KubeClient } from "../../operator/kube-client.ts";

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpInit {
  /** Sent as JSON. */
  body?: unknown;
  /**
   * A token the server takes as `Authorization: token <token>` or as the `token` query parameter (Jupyter
   * takes both). Through the apiserver it goes as the parameter: the apiserver keeps the Authorization
   * header for itself.
   */
  token?: string;
  /** Whole-request timeout; 5 s by default. */
  timeoutMs?: number;
}

/** Sends one request to a cluster's server; rejects only when no answer came (refused, timed out). */
export type ClusterHttp = (method: HttpMethod, url: string, init?: HttpInit) => Promise<HttpAnswer>;

/** Time given to one request: a server that does not answer within it counts as unreachable. */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Straight to the URL, with node:http rather than fetch: the Ray dashboard refuses POSTs that carry the
 * Sec-Fetch-Mode header fetch always sends ("method not allowed for browser traffic").
 */
export const directHttp: ClusterHttp = (method, url, init = {}) => {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  const timeoutMs = init.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const headers: Record<string, string | number> = {};
  if (payload) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  if (init.token) headers.authorization = `token ${init.token}`;
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, timeout: timeoutMs, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
};

/** `<service>.<namespace>.svc`, optionally followed by the cluster domain. */
const SERVICE_HOST =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.[a-z0-9.-]+)?$/;

/**
 * The apiserver path that proxies to the Service a URL names, or undefined when the URL names no Service.
 * Pure.
 */
export function serviceProxyPath(url: string): string | undefined {
  const parsed = new URL(url);
  const match = SERVICE_HOST.exec(parsed.hostname);
  if (!match) return undefined;
  const [, service, , namespace] = match;
  const https = parsed.protocol === "https:";
  const port = parsed.port || (https ? "443" : "80");
  // The proxy's Service reference is [scheme:]name[:port]; the scheme defaults to http.
  const target = `${https ? "https:" : ""}${service}:${port}`;
  return `/api/v1/namespaces/${namespace}/services/${target}/proxy${parsed.pathname}${parsed.search}`;
}

/** Through the apiserver's service proxy for Service URLs, straight for the others. */
export function apiserverProxyHttp(client: KubeClient): ClusterHttp {
  return async (method, url, init = {}) => {
    const proxied = serviceProxyPath(url);
    if (!proxied) return directHttp(method, url, init);
    let path = proxied;
    if (init.token) path += `${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(init.token)}`;
    return client.requestText({
      method,
      path,
      ...(init.body !== undefined && { body: init.body }),
      timeoutMs: init.timeoutMs ?? REQUEST_TIMEOUT_MS,
    });
  };
}

/** The answer's body as JSON, or undefined when it is not JSON (an error page, a proxy's text). */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
